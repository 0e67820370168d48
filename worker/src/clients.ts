import type { Logger } from "@million-rps/shared/log";
import { Redis } from "ioredis";
import pg from "pg";
import type { WorkerConfig } from "./config";

/** The Postgres pool: one connection per partition in flight plus one for cache refills. */
export function createPool(config: WorkerConfig, log: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: config.dbPoolSize,
    // A stopped database must fail fast into the retry loop, not hang a partition.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    query_timeout: 60_000,
    application_name: "million-rps-worker",
    // Offsets are committed once Postgres says COMMIT; that must mean durable, whatever
    // the server's default (the local dev cluster runs with synchronous_commit off).
    // Every statement probes a few thousand keys of a large, cached table: tell the
    // planner that index probes are cheap (the usual SSD setting), or it hash-joins
    // whole-table scans as soon as a batch is a few percent of the table.
    options: "-c synchronous_commit=on -c random_page_cost=1.1",
  });
  // An idle client losing its server (restart, failover) must not crash the process.
  pool.on("error", (err) => log.warn("idle Postgres connection failed", { err }));
  return pool;
}

/**
 * Redis for change publications. Commands fail fast while it is down (the publisher retries
 * in the background); state changes are logged once, not per reconnect attempt.
 */
export function createRedis(config: WorkerConfig, log: Logger): Redis {
  const redis = new Redis(config.redisUrl, {
    ...(config.redisPassword === undefined ? {} : { password: config.redisPassword }),
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  let down = false;
  redis.on("error", (err) => {
    if (!down) log.warn("Redis unavailable; cache moves wait for it", { err });
    down = true;
  });
  redis.on("ready", () => {
    if (down) log.info("Redis available again");
    down = false;
  });
  return redis;
}
