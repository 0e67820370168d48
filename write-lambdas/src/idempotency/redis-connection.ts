import type { Logger } from "@million-rps/shared/log";
import { Redis } from "ioredis";
import type { SecretFetcher } from "../auth/key-source";

export interface RedisSettings {
  url: string;
  /** AUTH token given directly (local, compose), or... */
  password: string | undefined;
  /** ...read from Secrets Manager once per cold start (AWS: the ElastiCache AUTH token). */
  passwordArn: string | undefined;
  /** Bound on connecting and on every command; past it the write answers 503. */
  timeoutMs: number;
}

export interface LazyRedis {
  /** A ready connection, opened on first use; rejects within `timeoutMs` when Redis is away. */
  get(): Promise<Redis>;
  close(): Promise<void>;
}

/** Resolves once `client` is ready, or rejects after `ms` without leaving a listener behind. */
function readyWithin(client: Redis, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      reject(new Error(`Redis was not ready within ${ms} ms (status ${client.status})`));
    }, ms);
    client.once("ready", onReady);
  });
}

/**
 * One Redis connection per warm container, opened by the first write that carries an
 * Idempotency-Key (writes without one never connect). Commands fail fast instead of
 * queueing while Redis is away, so an outage is a prompt 503, never a command that
 * runs later; ioredis reconnects on its own with a capped backoff.
 */
export function lazyRedis(
  settings: RedisSettings,
  fetchSecret: SecretFetcher,
  log: Logger,
): LazyRedis {
  let client: Promise<Redis> | undefined;
  let lastError = 0;

  async function open(): Promise<Redis> {
    const password =
      settings.password ??
      (settings.passwordArn === undefined
        ? undefined
        : (await fetchSecret(settings.passwordArn)).trim());
    const redis = new Redis(settings.url, {
      ...(password !== undefined && { password }),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: settings.timeoutMs,
      connectTimeout: Math.max(1_000, settings.timeoutMs),
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    });
    redis.on("error", (err: Error) => {
      // ioredis reports every reconnect attempt; one line per 5 s is enough.
      if (Date.now() - lastError > 5_000) log.warn("redis connection error", { err });
      lastError = Date.now();
    });
    return redis;
  }

  return {
    async get() {
      client ??= open().catch((err: unknown) => {
        client = undefined; // a failed secret fetch is retried by the next write
        throw err;
      });
      const redis = await client;
      if (redis.status !== "ready") await readyWithin(redis, settings.timeoutMs);
      return redis;
    },
    async close() {
      const pending = client;
      client = undefined;
      const redis = await pending?.catch(() => undefined);
      if (redis === undefined) return;
      const quit = redis.quit().catch(() => {});
      const timer = setTimeout(() => redis.disconnect(), settings.timeoutMs);
      await quit;
      clearTimeout(timer);
      redis.disconnect();
    },
  };
}
