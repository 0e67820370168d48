/**
 * Applies the versioned schema in shared/migrations to DATABASE_URL, once.
 * Run it as a step of its own (locally by `npm start`, on AWS as a one-off task),
 * never from every replica at boot.
 */

import { loadDotEnv, parseConfig, vars } from "@million-rps/shared/config";
import { migrate } from "@million-rps/shared/migrations";
import { createLogger } from "@million-rps/shared/pino-logger";
import pg from "pg";

loadDotEnv();
const config = parseConfig({
  databaseUrl: vars.databaseUrl,
  migrationsDir: vars.migrationsDir,
  logLevel: vars.logLevel,
});
const log = createLogger("migrate", { level: config.logLevel });
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
try {
  const result = await migrate(pool, config.migrationsDir);
  log.info("migrations done", {
    applied: result.applied,
    already_applied: result.alreadyApplied.length,
  });
} catch (err) {
  log.error("migration failed", { err });
  process.exitCode = 1;
} finally {
  await pool.end();
}
