import { migrate } from "@million-rps/shared/migrations";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { stopStrays } from "../leftovers";
import { dataDir } from "../paths";
import { releaseAbandonedHomes } from "../postgres-home";
import { type RunningServices, startServices } from "../services";
import { TEMPLATE_DATABASE, TEST_DATABASE_PREFIX, withDatabase } from "./fixtures";

let services: RunningServices | undefined;

/**
 * Starts the real services once per test run and hands their endpoints to every test
 * file. Missing system packages are installed first, and leftovers of an earlier run
 * that was killed are stopped (both inside startServices).
 */
export async function setup(project: TestProject): Promise<void> {
  const t0 = Date.now();
  services = await startServices({
    profile: "test",
    onProgress: (m) => console.log(`[services] ${m}`),
  });
  for (const r of services.reports)
    console.log(`[services] ${r.name}: ${r.mode} ${r.endpoint} in ${r.ms} ms`);
  await prepareTemplate(services.endpoints.databaseUrl);
  project.provide("services", services.endpoints);
  console.log(`[services] ready in ${Date.now() - t0} ms`);
}

export async function teardown(): Promise<void> {
  await services?.stop();
  // Anything else this process started under .data (nothing, unless a start was cut short).
  await stopStrays(dataDir());
  // Test files that start Postgres on their own remove their data directory, not the
  // private cluster directory under /var/tmp it may have had as root: release those now.
  releaseAbandonedHomes();
}

/** A migrated template database that each test file clones (CREATE DATABASE ... TEMPLATE is fast). */
async function prepareTemplate(databaseUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(databaseUrl, "postgres") });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE starts_with(datname, $1) OR datname = $2",
      [TEST_DATABASE_PREFIX, TEMPLATE_DATABASE],
    );
    for (const { datname } of rows) await admin.query(`DROP DATABASE "${datname}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${TEMPLATE_DATABASE}"`);
  } finally {
    await admin.end();
  }
  const pool = new pg.Pool({
    connectionString: withDatabase(databaseUrl, TEMPLATE_DATABASE),
    max: 1,
  });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
}
