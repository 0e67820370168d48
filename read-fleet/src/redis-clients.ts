import { setTimeout as sleep } from "node:timers/promises";
import { Redis, type RedisOptions } from "ioredis";
import type { ReadFleetConfig } from "./config";

type RedisConfig = Pick<
  ReadFleetConfig,
  "redisUrl" | "redisPassword" | "redisPoolSize" | "redisTimeoutMs"
>;

/**
 * Redis is a cache here: commands fail fast instead of queueing while it is away
 * (the caller falls back to Postgres or to stale bytes), and reconnects retry
 * forever with a capped backoff.
 */
function redisOptions(config: RedisConfig): RedisOptions {
  return {
    password: config.redisPassword,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.redisTimeoutMs,
    connectTimeout: Math.max(1_000, config.redisTimeoutMs),
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
  };
}

/** REDIS_POOL_SIZE command connections used round-robin, plus one subscriber connection. */
export class RedisClients {
  readonly commands: Redis[];
  readonly subscriber: Redis;
  private turn = 0;

  constructor(config: RedisConfig, onError: (err: Error) => void) {
    const options = redisOptions(config);
    this.commands = Array.from({ length: config.redisPoolSize }, () => {
      const client = new Redis(config.redisUrl, options);
      client.on("error", onError);
      return client;
    });
    // The subscriber may wait in its offline queue: SUBSCRIBE must be replayed on reconnect.
    this.subscriber = new Redis(config.redisUrl, {
      ...options,
      enableOfflineQueue: true,
      commandTimeout: undefined,
    });
    this.subscriber.on("error", onError);
  }

  /** The next ready connection (round-robin), or any connection when none is ready (it fails fast). */
  next(): Redis {
    const n = this.commands.length;
    for (let i = 0; i < n; i++) {
      const client = this.commands[this.turn++ % n] as Redis;
      if (client.status === "ready") return client;
    }
    return this.commands[0] as Redis;
  }

  get connected(): boolean {
    return this.commands.some((c) => c.status === "ready");
  }

  /** Resolves once a command connection is ready, or false after `timeoutMs`. */
  async ready(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.connected) {
      if (Date.now() > deadline) return false;
      await sleep(20);
    }
    return true;
  }

  close(): void {
    for (const c of this.commands) c.disconnect();
    this.subscriber.disconnect();
  }
}
