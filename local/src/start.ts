/**
 * `npm start`: the whole system on this machine, no Docker needed.
 *
 * Installs missing system packages, brings up Postgres, Redis and Kafka (or reuses
 * the configured ones), migrates, creates the topics, seeds when the table is empty,
 * then starts the worker, the write API (the Lambda handlers behind a local HTTP
 * adapter) and the read fleet. Ctrl-C at any moment stops everything it started or
 * is starting, and nothing else; a second Ctrl-C hurries the stop.
 *
 *   npm start                     # everything
 *   npm start -- --services-only  # just Postgres, Redis and Kafka, until Ctrl-C
 */
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { cacheKeys, DEFAULT_HOT_PAGES, refreshGeneration } from "@million-rps/shared";
import { ConfigError, int, loadDotEnv, parseConfig, vars } from "@million-rps/shared/config";
import { DEV_JWT_SECRET } from "@million-rps/shared/dev-token";
import { migrate } from "@million-rps/shared/migrations";
import { progressBar } from "@million-rps/shared/progress";
import { seedTodos } from "@million-rps/shared/seed";
import { ensureCommandTopics } from "@million-rps/shared/topics";
import { Redis } from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { type AppSpec, answers200, launchApp } from "./apps";
import { lastLines, StartupError } from "./errors";
import { stopStrays } from "./leftovers";
import { dataDir } from "./paths";
import { redact, serviceSet } from "./services";
import { onStopRequest } from "./stop-signals";
import { printSummary } from "./summary";
import { Teardown } from "./teardown";

const { values: flags } = parseArgs({
  options: { "services-only": { type: "boolean", default: false } },
});

loadDotEnv();
const config = (() => {
  try {
    return parseConfig({
      httpPort: vars.httpPort,
      writeHttpPort: int("WRITE_HTTP_PORT", 8081, 1, 65535),
      readAdminPort: vars.adminPort,
      workerAdminPort: int("WORKER_ADMIN_PORT", 9465, 1, 65535),
      cacheTtlSec: vars.cacheTtlSec,
      cacheKeyPrefix: vars.cacheKeyPrefix,
      topic: vars.kafkaTodoTopic,
      dlqTopic: vars.kafkaDlqTopic,
      partitions: vars.kafkaPartitions,
      jwtSecret: vars.jwtSecret,
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
})();

const steps = flags["services-only"] ? 4 : 7;
let stepNo = 0;
function step(what: string): void {
  stepNo++;
  console.log(`[${stepNo}/${steps}] ${what}`);
}

// After the terminal hangs up, writing to it fails (EIO), asynchronously: without a
// listener that error would kill this process halfway through stopping what it started.
process.stdout.on("error", () => {});
process.stderr.on("error", () => {});

const root = dataDir();
const logDir = `${root}/dev/logs`;
/** Everything this command starts, in order; a stop undoes it in reverse, at any moment. */
const teardown = new Teardown();
// Undone last: whatever of ours is still running (a process caught mid-spawn).
teardown.add("anything else", (o) => stopStrays(root, o));
const services = serviceSet({ profile: "dev", onProgress: (m) => console.log(`      ${m}`) });
teardown.add("services", (o) => services.stop(o));

let stopping: Promise<never> | undefined;
/** Stops what this command started or is starting, once, and says what it stopped. */
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    console.log("\nstopping what this command started...");
    const report = await teardown.run();
    for (const what of report.stopped) console.log(`  stopped ${what}`);
    for (const f of report.failed) console.error(`  could not stop ${f.part}: ${f.error.message}`);
    if (report.stopped.length === 0 && report.failed.length === 0)
      console.log("  nothing had been started yet");
    process.exit(report.failed.length > 0 ? 1 : code);
  })();
  return stopping;
}
onStopRequest({
  stop: () => void shutdown(0),
  hurry: () => {
    console.log("  hurrying: killing what is still stopping");
    teardown.hurry();
  },
});

/** Prints which part failed, why and what to do, then stops what was started. */
async function fail(part: string, err: unknown, hint: string): Promise<never> {
  // A step that fails because a stop took its services away is part of stopping. The
  // signal may still be on its way (Ctrl-C reaches the apps too, and one can exit first).
  await sleep(250);
  if (stopping !== undefined) return stopping;
  const message = err instanceof Error ? err.message : String(err);
  const next = err instanceof StartupError ? err.nextStep : hint;
  console.error(`\n✗ ${part} failed: ${message}\n  ${next}`);
  return shutdown(1);
}

/** Runs one start-up step unless a stop is underway; a failure stops everything. */
async function attempt<T>(part: string, hint: string, work: () => Promise<T>): Promise<T> {
  if (stopping !== undefined) return stopping;
  try {
    return await work();
  } catch (err) {
    return fail(part, err, hint);
  }
}

step("services: Postgres, Redis, Kafka");
const running = await attempt(
  "starting the services",
  `Point DATABASE_URL / REDIS_URL / KAFKA_BROKERS at running services, or see the logs under ${root}/dev/.`,
  () => services.start(),
);
const { endpoints } = running;
for (const r of running.reports)
  console.log(
    `      ${r.name}: ${r.mode === "started" ? "started" : "using"} ${r.endpoint} (${r.ms} ms)`,
  );
const env: Record<string, string> = {
  DATABASE_URL: endpoints.databaseUrl,
  REDIS_URL: endpoints.redisUrl,
  KAFKA_BROKERS: endpoints.kafkaBrokers.join(","),
};

const pool = new pg.Pool({ connectionString: endpoints.databaseUrl, max: 2 });
// A stop ends Postgres under the pool: its connections then fail, which is expected.
pool.on("error", () => {});
if (stopping === undefined) step("schema migrations");
await attempt(
  "migrating Postgres",
  `Check that ${redact(endpoints.databaseUrl)} accepts connections.`,
  async () => {
    const result = await migrate(pool);
    console.log(
      `      applied ${result.applied.length}, already applied ${result.alreadyApplied.length}`,
    );
  },
);

if (stopping === undefined) step(`Kafka topics ${config.topic} and ${config.dlqTopic}`);
await attempt(
  "creating Kafka topics",
  `Check the broker at ${endpoints.kafkaBrokers.join(",")}.`,
  async () => {
    const kafka = new Kafka({
      clientId: "million-rps-start",
      brokers: endpoints.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const created = await ensureCommandTopics(kafka, config);
    console.log(
      `      ${created.length === 0 ? "already there" : `created ${created.join(", ")}`}`,
    );
  },
);

if (stopping === undefined) step("seed data");
await attempt("seeding", "Run `npm run seed` on its own to see the full error.", async () => {
  const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM todos");
  const existing = rows[0]?.n ?? 0;
  if (existing > 0) {
    console.log(`      ${existing} todos already there; not seeding (npm run seed adds more)`);
    return;
  }
  const count = 10_000;
  const bar = progressBar("      seeding", count);
  await seedTodos(pool, count, (done) => bar.update(done));
  bar.finish();
  const redis = new Redis(endpoints.redisUrl);
  try {
    await refreshGeneration({
      redis,
      db: pool,
      keys: cacheKeys(config.cacheKeyPrefix),
      hotPages: DEFAULT_HOT_PAGES,
      ttlSec: config.cacheTtlSec,
    });
  } finally {
    redis.disconnect();
  }
});
await pool.end().catch(() => {});

/** The last lines of an app's log: usually the reason it exited. */
function logTail(name: string): string {
  const file = `${logDir}/${name}.log`;
  return existsSync(file) ? lastLines(readFileSync(file, "utf8"), 5) : "";
}

/** Starts one app; it is part of the teardown from the moment its process exists. */
async function launch(part: string, spec: AppSpec): Promise<void> {
  if (stopping !== undefined) return stopping;
  step(part);
  const app = launchApp(spec, "dev", (code, signal) => {
    // Ctrl-C reaches the apps too, and one may exit before our own handler has run:
    // give pending signals a moment before calling an exit unexpected.
    setTimeout(() => {
      if (stopping !== undefined) return;
      if (signal === "SIGINT" || signal === "SIGHUP") return void shutdown(0);
      console.error(
        `\n✗ ${spec.name} exited unexpectedly (${signal ?? `code ${code}`}); its log is ${logDir}/${spec.name}.log:\n${logTail(spec.name)}`,
      );
      void shutdown(1);
    }, 250);
  });
  teardown.add(spec.name, async (o) => {
    await app.stop(o);
    return [`${spec.name} (pid ${app.child.pid})`];
  });
  await attempt(part, `See ${logDir}/${spec.name}.log.`, () => app.ready(teardown.signal));
}

if (flags["services-only"]) {
  if (stopping === undefined) {
    console.log("\nServices are up. Ctrl-C stops the ones this command started.");
    for (const [k, v] of Object.entries(env)) console.log(`  export ${k}=${v}`);
  }
} else {
  const jwtSecret = config.jwtSecret ?? DEV_JWT_SECRET;
  await launch("worker (Kafka -> Postgres)", {
    name: "worker",
    entry: "worker/src/main.ts",
    env: { ...env, ADMIN_PORT: String(config.workerAdminPort) },
    ready: () => answers200(`http://127.0.0.1:${config.workerAdminPort}/healthz`),
  });
  await launch("write API (Lambda handlers behind the local adapter)", {
    name: "write-api",
    entry: "write-lambdas/src/adapter/main.ts",
    env: { ...env, WRITE_HTTP_PORT: String(config.writeHttpPort), JWT_SECRET: jwtSecret },
    ready: () => answers200(`http://127.0.0.1:${config.writeHttpPort}/healthz`),
  });
  await launch("read fleet (uWS, one process per core)", {
    name: "read-fleet",
    entry: "read-fleet/src/main.ts",
    env: { ...env, HTTP_PORT: String(config.httpPort), ADMIN_PORT: String(config.readAdminPort) },
    ready: () => answers200(`http://127.0.0.1:${config.httpPort}/readyz`),
  });
  if (stopping === undefined)
    await printSummary({
      readUrl: `http://127.0.0.1:${config.httpPort}`,
      writeUrl: `http://127.0.0.1:${config.writeHttpPort}`,
      metrics: [
        `http://127.0.0.1:${config.readAdminPort}/metrics`,
        `http://127.0.0.1:${config.workerAdminPort}/metrics`,
      ],
      jwtSecret,
    });
}
// Stay up until Ctrl-C.
setInterval(() => {}, 1 << 30);
