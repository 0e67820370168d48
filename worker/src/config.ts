import {
  ConfigError,
  type ConfigOf,
  type Env,
  int,
  kafkaConnectionVars,
  parseConfig,
  str,
  vars,
} from "@million-rps/shared/config";

export const workerConfigSpec = {
  databaseUrl: vars.databaseUrl,
  dbPoolSize: vars.dbPoolSize,
  redisUrl: vars.redisUrl,
  redisPassword: vars.redisPassword,
  cacheTtlSec: vars.cacheTtlSec,
  cacheKeyPrefix: vars.cacheKeyPrefix,
  ...kafkaConnectionVars,
  topic: vars.kafkaTodoTopic,
  dlqTopic: vars.kafkaDlqTopic,
  groupId: vars.kafkaGroupId,
  /**
   * How long the broker waits for a silent worker before handing its partitions to
   * others: the broker's minimum by default (group.min.session.timeout.ms, 6 s on
   * Apache Kafka and MSK), so a crashed worker's writes wait seconds, not half a minute.
   * Heartbeats go every tenth of it; a slice waiting on Postgres keeps heartbeating.
   */
  sessionTimeoutMs: int("KAFKA_SESSION_TIMEOUT_MS", 6_000, 6_000, 300_000),
  /** Partitions applied concurrently: one Postgres transaction in flight per partition. */
  concurrency: vars.workerConcurrency,
  /** Most commands applied in one transaction. */
  batchSize: int("WORKER_BATCH_SIZE", 2_000, 1, 50_000),
  hotPages: vars.hotPages,
  /**
   * Most cursor pages a reader cached that the worker reads again per publication when
   * a change lands in them (0: leave them all to their readers). The change set waits
   * for them (a page of limit 100 is one query and ~2 ms of encoding; four at a time).
   */
  cachedPagesMax: int("CACHED_PAGES_MAX", 16, 0, 1_000),
  /**
   * Bytes of those rewritten cursor pages pushed with each publication, like the hot
   * pages, so their readers swap them in without a Redis round trip and a script
   * each. Every reader gets every push, whether it holds the page or not: at most
   * this many bytes per process per publication (0: readers read them all back).
   */
  cachedPagesPushBytes: int("CACHED_PAGES_PUSH_BYTES", 262_144, 0, 16_777_216),
  /** Least time between two change publications; commits in between share the next one. */
  generationMinIntervalMs: int("GENERATION_MIN_INTERVAL_MS", 50, 0, 10_000),
  /**
   * One worker publishes for all (change-relay.ts): its lease lasts this long, renewed
   * every quarter of it, so when it dies another takes over within this.
   */
  publisherLeaseMs: int("PUBLISHER_LEASE_MS", 2_000, 200, 60_000),
  /**
   * How long command records (GET /commands/:id, and what makes a redelivery harmless)
   * are kept: 8 days, longer than the command topic's 7-day retention.
   */
  commandRetentionHours: int("COMMAND_RETENTION_HOURS", 192, 1, 87_600),
  adminPort: int("ADMIN_PORT", 9465, 0, 65_535),
  adminHost: str("ADMIN_HOST", "127.0.0.1"),
  logLevel: vars.logLevel,
} as const;

export type WorkerConfig = ConfigOf<typeof workerConfigSpec>;

/** Parses the worker's environment once; throws ConfigError naming every bad variable. */
export function parseWorkerConfig(env: Env = process.env): WorkerConfig {
  const config = parseConfig(workerConfigSpec, env);
  // Each partition in flight holds a connection for its transaction; the cache refill needs one more.
  if (config.dbPoolSize < config.concurrency + 1) {
    throw new ConfigError([
      {
        variable: "DB_POOL_SIZE",
        message: `must be at least WORKER_CONCURRENCY + 1 = ${config.concurrency + 1} (got ${config.dbPoolSize})`,
      },
    ]);
  }
  return config;
}
