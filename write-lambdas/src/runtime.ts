import type { Logger } from "@million-rps/shared/log";
import { type SecretFetcher, secretsManagerFetcher, verificationKeys } from "./auth/key-source";
import { createTokenVerifier } from "./auth/token-verifier";
import type { WriteKind } from "./commands";
import type { WriteConfig } from "./config";
import { type IdempotencyStore, redisIdempotencyStore } from "./idempotency/idempotency-store";
import { lazyRedis } from "./idempotency/redis-connection";
import {
  type CommandSender,
  kafkaCommandSender,
  sendBudgetMs,
  shardedCommandSender,
} from "./kafka/command-sender";
import { noWriteMetrics, type WriteMetrics } from "./telemetry/write-metrics";
import { type WriteDeps, type WriteHandler, writeHandler } from "./write-api";

/** Everything one warm container (or one local server) holds: config, key source, one producer. */
export interface WriteRuntime extends WriteDeps {
  config: WriteConfig;
  handlers: Readonly<Record<WriteKind, WriteHandler>>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Powertools' Logger on Lambda (lambda.ts), pino in the local adapter. */
  log: Logger;
  /** EMF on Lambda; none locally. */
  metrics?: WriteMetrics;
  /** Benchmarks replace Kafka with an in-process sender to time the handler alone. */
  sender?: CommandSender;
  /** Tests replace Redis with an in-process store. */
  idempotencyStore?: IdempotencyStore;
  fetchSecret?: SecretFetcher;
}

/**
 * How long a key stays "in flight" (409 to a duplicate) if its request never
 * finishes (a killed container): the longest accept, the Redis commands around it,
 * and a second of slack. A request that does finish frees or completes it sooner.
 */
export function inFlightMs(config: WriteConfig): number {
  return sendBudgetMs(config.sendTimeoutMs) + 2 * config.redisTimeoutMs + 1000;
}

/** Wires the parts from the parsed config (parseWriteConfig); connects nothing yet. */
export function createWriteRuntime(config: WriteConfig, options: RuntimeOptions): WriteRuntime {
  const { log } = options;
  const jwt = config.jwt;
  const fetchSecret =
    options.fetchSecret ?? secretsManagerFetcher(config.region, config.sendTimeoutMs);
  const keys = verificationKeys(jwt, {
    region: config.region,
    timeoutMs: config.sendTimeoutMs,
    fetchSecret,
  });
  const verify = createTokenVerifier(keys, {
    ...(jwt.issuer !== undefined && { issuer: jwt.issuer }),
    ...(jwt.audience !== undefined && { audience: jwt.audience }),
    clockToleranceSec: config.clockToleranceSec,
    retryAfterSec: config.retryAfterSec,
  });
  const sender =
    options.sender ??
    shardedCommandSender(
      Array.from({ length: config.producers }, (_, i) =>
        kafkaCommandSender({
          connection: config.kafka,
          topic: config.topic,
          timeoutMs: config.sendTimeoutMs,
          log,
          clientId: `write-lambdas-${i}`,
        }),
      ),
    );
  const redis = lazyRedis(
    {
      url: config.redisUrl,
      password: config.redisPassword,
      passwordArn: config.redisPasswordArn,
      timeoutMs: config.redisTimeoutMs,
    },
    fetchSecret,
    log.child({ dependency: "redis" }),
  );
  const store =
    options.idempotencyStore ??
    redisIdempotencyStore({
      redis,
      inFlightMs: inFlightMs(config),
      ttlSec: config.idempotencyTtlSec,
    });
  const deps: WriteDeps = {
    verify,
    sender,
    idempotency: { store, keyPrefix: config.keyPrefix },
    commandIdSecret: config.commandIdSecret,
    retryAfterSec: config.retryAfterSec,
    log,
    metrics: options.metrics ?? noWriteMetrics,
  };
  return {
    ...deps,
    config,
    handlers: {
      create: writeHandler("create", deps),
      update: writeHandler("update", deps),
      delete: writeHandler("delete", deps),
    },
    close: async () => {
      await Promise.all([sender.close(), redis.close()]);
    },
  };
}
