import {
  ConfigError,
  type ConfigOf,
  custom,
  type Env,
  type HotPage,
  int,
  kafkaConnectionVars,
  parseConfig,
  parseLimit,
  str,
  vars,
} from "@million-rps/shared";

/** `HOT_PAGES=100,1000:2` means the first page of limit 100, and the first two pages of limit 1000. */
export function parseHotPages(text: string): HotPage[] {
  const out: HotPage[] = [];
  for (const item of text.split(",").map((s) => s.trim())) {
    if (item === "") continue;
    const [limitText, pagesText] = item.split(":");
    const limit = parseLimit(limitText);
    const pages = pagesText === undefined ? 1 : Number(pagesText);
    if (limit === null || limitText === undefined || limitText === "") {
      throw new Error(`"${item}": limit must be an integer from 1 to 1000`);
    }
    if (!Number.isInteger(pages) || pages < 1 || pages > 10 || !/^[0-9]+$/.test(pagesText ?? "1")) {
      throw new Error(`"${item}": page depth must be an integer from 1 to 10`);
    }
    if (!out.some((p) => p.limit === limit)) out.push({ limit, pages });
  }
  if (out.length === 0) throw new Error("must name at least one limit, e.g. 100");
  return out;
}

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
  groupId: str("KAFKA_GROUP_ID", "todo-workers"),
  /** How long the broker waits for a silent worker before handing its partitions to others. */
  sessionTimeoutMs: int("KAFKA_SESSION_TIMEOUT_MS", 30_000, 6_000, 300_000),
  /** Partitions applied concurrently: one Postgres transaction in flight per partition. */
  poolSize: vars.workerPoolSize,
  /** Most commands applied in one transaction. */
  batchSize: int("WORKER_BATCH_SIZE", 2_000, 1, 50_000),
  hotPages: custom("HOT_PAGES", (env: Env) => parseHotPages(env.HOT_PAGES ?? "100")),
  /** Least time between two generation moves; commits in between share the next one. */
  generationMinIntervalMs: int("GENERATION_MIN_INTERVAL_MS", 50, 0, 10_000),
  adminPort: int("ADMIN_PORT", 9465, 0, 65_535),
  adminHost: str("ADMIN_HOST", "127.0.0.1"),
  logLevel: vars.logLevel,
} as const;

export type WorkerConfig = ConfigOf<typeof workerConfigSpec>;

/** Parses the worker's environment once; throws ConfigError naming every bad variable. */
export function parseWorkerConfig(env: Env = process.env): WorkerConfig {
  const config = parseConfig(workerConfigSpec, env);
  // Each partition in flight holds a connection for its transaction; the cache refill needs one more.
  if (config.dbPoolSize < config.poolSize + 1) {
    throw new ConfigError([
      {
        variable: "DB_POOL_SIZE",
        message: `must be at least WORKER_POOL_SIZE + 1 = ${config.poolSize + 1} (got ${config.dbPoolSize})`,
      },
    ]);
  }
  return config;
}
