/**
 * Seeds the todos table (10,000 rows by default) and moves readers to a new cache
 * generation so they refill.
 *
 *   npm run seed                  # 10,000 todos
 *   npm run seed -- --count 1000000
 */
import { parseArgs } from "node:util";
import { cacheKeys, DEFAULT_HOT_PAGES, refreshGeneration } from "@million-rps/shared";
import { loadDotEnv, parseConfig, vars } from "@million-rps/shared/config";
import { createLogger } from "@million-rps/shared/pino-logger";
import { progressBar } from "@million-rps/shared/progress";
import { seedTodos } from "@million-rps/shared/seed";
import { Redis } from "ioredis";
import pg from "pg";

loadDotEnv();
const { values } = parseArgs({ options: { count: { type: "string", default: "10000" } } });
const count = Number(values.count);
if (!Number.isSafeInteger(count) || count < 1 || count > 50_000_000) {
  console.error(`--count must be an integer from 1 to 50000000 (got "${values.count}")`);
  process.exit(2);
}
const config = parseConfig({
  databaseUrl: vars.databaseUrl,
  redisUrl: vars.redisUrl,
  redisPassword: vars.redisPassword,
  cacheTtlSec: vars.cacheTtlSec,
  cacheKeyPrefix: vars.cacheKeyPrefix,
  logLevel: vars.logLevel,
});
const log = createLogger("seed", { level: config.logLevel });

const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
const redis = new Redis(config.redisUrl, {
  password: config.redisPassword,
  lazyConnect: true,
  maxRetriesPerRequest: 2,
});
try {
  const bar = progressBar("seeding todos", count);
  const t0 = Date.now();
  const result = await seedTodos(pool, count, (done) => bar.update(done));
  bar.finish();
  log.info("seeded", {
    ...result,
    already_present: result.requested - result.inserted,
    ms: Date.now() - t0,
  });
  try {
    await redis.connect();
    const refreshed = await refreshGeneration({
      redis,
      db: pool,
      keys: cacheKeys(config.cacheKeyPrefix),
      hotPages: DEFAULT_HOT_PAGES,
      ttlSec: config.cacheTtlSec,
    });
    log.info("cache generation bumped", { ...refreshed });
  } catch (err) {
    // The rows are in; readers also poll the generation and bound staleness by TTL.
    log.warn("could not bump the cache generation; readers will refill within CACHE_TTL_SEC", {
      err,
    });
  }
} catch (err) {
  log.error("seeding failed", { err });
  process.exitCode = 1;
} finally {
  await pool.end();
  redis.disconnect();
}
