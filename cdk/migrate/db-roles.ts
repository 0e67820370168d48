/**
 * The migrate task's second step (cdk/migrate/Dockerfile): after the migrations,
 * as the master user, creates the reader and application roles, sets the passwords
 * their Secrets Manager secrets hold (injected as DB_READER_PASSWORD and
 * DB_APP_PASSWORD) and grants what each may do. Idempotent: every deploy re-runs it.
 */
import { custom, parseConfig, str, vars } from "@million-rps/shared/config";
import { createLogger } from "@million-rps/shared/pino-logger";
import pg from "pg";
import { roleStatements } from "./role-grants";

function required(variable: string) {
  return custom(variable, (env) => {
    const v = env[variable];
    if (v === undefined || v === "") throw new Error("is required");
    return v;
  });
}

const config = parseConfig({
  databaseUrl: vars.databaseUrl,
  readerRole: str("DB_READER_ROLE", "million_rps_reader"),
  readerPassword: required("DB_READER_PASSWORD"),
  appRole: str("DB_APP_ROLE", "million_rps_app"),
  appPassword: required("DB_APP_PASSWORD"),
  logLevel: vars.logLevel,
});
const log = createLogger("db-roles", { level: config.logLevel });
const url = new URL(config.databaseUrl);
const statements = roleStatements({
  database: decodeURIComponent(url.pathname.slice(1)),
  owner: decodeURIComponent(url.username),
  reader: { name: config.readerRole, password: config.readerPassword },
  app: { name: config.appRole, password: config.appPassword },
});
const client = new pg.Client({ connectionString: config.databaseUrl });
try {
  await client.connect();
  await client.query("BEGIN");
  for (const sql of statements) await client.query(sql);
  await client.query("COMMIT");
  log.info("database roles ready", { reader: config.readerRole, app: config.appRole });
} catch (err) {
  await client.query("ROLLBACK").catch(() => {});
  // Never the statement: it carries a password verifier.
  log.error("could not set up database roles", { err: err instanceof Error ? err.message : err });
  process.exitCode = 1;
} finally {
  await client.end().catch(() => {});
}
