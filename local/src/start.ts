/**
 * `npm start`: the whole system on this machine, no Docker needed.
 *
 * Brings up Postgres, Redis and Kafka (or reuses the configured ones), migrates,
 * creates the topics, seeds when the table is empty, then starts the worker, the
 * write API (the Lambda handlers behind a local HTTP adapter) and the read fleet.
 * Ctrl-C stops everything it started, and nothing else.
 *
 *   npm start                     # everything
 *   npm start -- --services-only  # just Postgres, Redis and Kafka, until Ctrl-C
 */
import { parseArgs } from "node:util";
import {
  ConfigError,
  cacheKeys,
  DEFAULT_HOT_PAGES,
  int,
  loadDotEnv,
  migrate,
  parseConfig,
  refreshGeneration,
  vars,
} from "@million-rps/shared";
import { DEV_JWT_SECRET } from "@million-rps/write-lambdas";
import { Redis } from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { answers200, type RunningApp, startApp } from "./apps";
import { progressBar } from "./progress";
import { seedTodos } from "./seed";
import { type RunningServices, redact, startServices } from "./services";
import { printSummary } from "./summary";
import { ensureCommandTopics } from "./topics";

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

let services: RunningServices | undefined;
const apps: RunningApp[] = [];
let stopping: Promise<never> | undefined;

// After the terminal hangs up, writing to it fails (EIO), asynchronously: without a
// listener that error would kill this process halfway through stopping what it started.
process.stdout.on("error", () => {});
process.stderr.on("error", () => {});

/** Stops what this command started, once; a second signal waits for the first stop. */
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    let exitCode = code;
    console.log("\nstopping...");
    for (const app of [...apps].reverse()) {
      try {
        await app.stop();
        console.log(`  stopped ${app.name}`);
      } catch (err) {
        exitCode = 1;
        console.error(`  could not stop ${app.name}: ${(err as Error).message}`);
      }
    }
    try {
      await services?.stop();
      if (services !== undefined) console.log("  stopped the services this command started");
    } catch (err) {
      exitCode = 1;
      console.error(`  could not stop the services: ${(err as Error).message}`);
    }
    process.exit(exitCode);
  })();
  return stopping;
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
process.on("SIGHUP", () => void shutdown(0));
// If whatever launched us dies without passing a signal on (a shell between npm
// and this process, a closed terminal), we are re-parented: stop what we started.
const launcher = process.ppid;
setInterval(() => {
  if (process.ppid !== launcher) {
    console.log(`\nthe process that started this one (pid ${launcher}) is gone`);
    void shutdown(0);
  }
}, 1_000).unref();

/** Prints which part failed and what to do, then stops what was started. */
async function fail(part: string, err: unknown, hint: string): Promise<never> {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`\n✗ ${part} failed: ${message}\n  ${hint}`);
  return shutdown(1);
}

step("services: Postgres, Redis, Kafka");
try {
  services = await startServices({ profile: "dev", onProgress: (m) => console.log(`      ${m}`) });
} catch (err) {
  await fail(
    "starting the services",
    err,
    "Install what is named above, or point DATABASE_URL / REDIS_URL / KAFKA_BROKERS at running ones.",
  );
}
const endpoints = services?.endpoints;
if (endpoints === undefined) process.exit(1);
for (const r of services?.reports ?? [])
  console.log(
    `      ${r.name}: ${r.mode === "started" ? "started" : "using"} ${r.endpoint} (${r.ms} ms)`,
  );
const env: Record<string, string> = {
  DATABASE_URL: endpoints.databaseUrl,
  REDIS_URL: endpoints.redisUrl,
  KAFKA_BROKERS: endpoints.kafkaBrokers.join(","),
};

step("schema migrations");
const pool = new pg.Pool({ connectionString: endpoints.databaseUrl, max: 2 });
try {
  const result = await migrate(pool);
  console.log(
    `      applied ${result.applied.length}, already applied ${result.alreadyApplied.length}`,
  );
} catch (err) {
  await fail(
    "migrating Postgres",
    err,
    `Check that ${redact(endpoints.databaseUrl)} accepts connections.`,
  );
}

step(`Kafka topics ${config.topic} and ${config.dlqTopic}`);
try {
  const kafka = new Kafka({
    clientId: "million-rps-start",
    brokers: endpoints.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const created = await ensureCommandTopics(kafka, config);
  console.log(`      ${created.length === 0 ? "already there" : `created ${created.join(", ")}`}`);
} catch (err) {
  await fail(
    "creating Kafka topics",
    err,
    `Check the broker at ${endpoints.kafkaBrokers.join(",")}.`,
  );
}

step("seed data");
try {
  const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM todos");
  const existing = rows[0]?.n ?? 0;
  if (existing > 0) {
    console.log(`      ${existing} todos already there; not seeding (npm run seed adds more)`);
  } else {
    const count = 10_000;
    const bar = progressBar("      seeding", count);
    await seedTodos(pool, count, (done) => bar.update(done));
    bar.finish();
    const redis = new Redis(endpoints.redisUrl);
    await refreshGeneration({
      redis,
      db: pool,
      keys: cacheKeys(config.cacheKeyPrefix),
      hotPages: DEFAULT_HOT_PAGES,
      ttlSec: config.cacheTtlSec,
    });
    redis.disconnect();
  }
} catch (err) {
  await fail("seeding", err, "Run `npm run seed` on its own to see the full error.");
} finally {
  await pool.end();
}

if (flags["services-only"]) {
  console.log("\nServices are up. Ctrl-C stops the ones this command started.");
  for (const [k, v] of Object.entries(env)) console.log(`  export ${k}=${v}`);
} else {
  const onExit = (name: string) => (code: number | null) => {
    if (!stopping) {
      console.error(
        `\n✗ ${name} exited unexpectedly (code ${code}); see .data/dev/logs/${name}.log`,
      );
      void shutdown(1);
    }
  };
  const jwtSecret = config.jwtSecret ?? DEV_JWT_SECRET;
  const launch = async (part: string, spec: Parameters<typeof startApp>[0]) => {
    step(part);
    try {
      apps.push(await startApp(spec, "dev", onExit(spec.name)));
    } catch (err) {
      await fail(part, err, `See .data/dev/logs/${spec.name}.log.`);
    }
  };
  await launch("worker (Kafka -> Postgres)", {
    name: "worker",
    entry: "worker/src/main.ts",
    env: { ...env, ADMIN_PORT: String(config.workerAdminPort) },
    ready: () => answers200(`http://127.0.0.1:${config.workerAdminPort}/healthz`),
  });
  await launch("write API (Lambda handlers behind the local adapter)", {
    name: "write-api",
    entry: "write-lambdas/src/local/main.ts",
    env: { ...env, WRITE_HTTP_PORT: String(config.writeHttpPort), JWT_SECRET: jwtSecret },
    ready: async () =>
      (
        await fetch(`http://127.0.0.1:${config.writeHttpPort}/healthz`, {
          signal: AbortSignal.timeout(1000),
        })
      ).ok,
  });
  await launch("read fleet (uWS, one process per core)", {
    name: "read-fleet",
    entry: "read-fleet/src/main.ts",
    env: { ...env, HTTP_PORT: String(config.httpPort), ADMIN_PORT: String(config.readAdminPort) },
    ready: () => answers200(`http://127.0.0.1:${config.httpPort}/readyz`),
  });
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
