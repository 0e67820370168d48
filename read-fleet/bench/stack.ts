import { execFileSync } from "node:child_process";
import { type RunningServices, startServices } from "@million-rps/local";
import { cacheKeys, DEFAULT_HOT_PAGES, refreshGeneration } from "@million-rps/shared";
import { migrate } from "@million-rps/shared/migrations";
import { seedTodos } from "@million-rps/shared/seed";
import { Redis } from "ioredis";
import pg from "pg";
import { freePort } from "./servers";
import { say, settings } from "./settings";

export interface Stack {
  services: RunningServices;
  databaseUrl: string;
  redisUrl: string;
  /** Where the references read the page's raw JSON with one GET. */
  rawPageKey: string;
  /**
   * redis-server, pinned to the servers' CPU: Redis is part of the server side of the
   * designs that read it per request, so it shares their core and its CPU time counts.
   */
  redisPid: number;
}

/** Private Postgres and Redis on free ports (never a developer's running stack), seeded and published. */
export async function startStack(): Promise<Stack> {
  const services = await startServices({
    profile: "test",
    only: ["postgres", "redis"],
    env: {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/million_rps`,
      REDIS_URL: `redis://127.0.0.1:${await freePort()}/0`,
    },
    onProgress: say,
  });
  const { databaseUrl, redisUrl } = services.endpoints;
  const redisPid = services.instances.redis?.pid();
  if (redisPid === undefined || redisPid === null)
    throw new Error("the private redis-server is not running");
  execFileSync("taskset", ["-pc", settings.serverCpu, String(redisPid)], { stdio: "ignore" });
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const redis = new Redis(redisUrl);
  try {
    await migrate(db);
    const t0 = Date.now();
    const seeded = await seedTodos(db, settings.todos);
    say(`seeded ${seeded.inserted} todos in ${Date.now() - t0} ms`);
    const keys = cacheKeys(settings.keyPrefix);
    // As the worker does: hot page into L2 under a new generation, then publish it.
    await refreshGeneration({
      redis,
      db,
      keys,
      hotPages: DEFAULT_HOT_PAGES,
      ttlSec: 3600,
    });
  } finally {
    redis.disconnect();
    await db.end();
  }
  return {
    services,
    databaseUrl,
    redisUrl,
    rawPageKey: `${settings.keyPrefix}:bench:raw-page`,
    redisPid,
  };
}

export async function storeRawPage(stack: Stack, body: Buffer): Promise<void> {
  const redis = new Redis(stack.redisUrl);
  try {
    await redis.set(stack.rawPageKey, body);
  } finally {
    redis.disconnect();
  }
}
