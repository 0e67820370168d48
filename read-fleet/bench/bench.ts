/**
 * Read path benchmark: `npm run bench:read`.
 *
 * Starts private Postgres and Redis, seeds 10,000 todos, starts the read fleet and
 * the reference servers one at a time, warms each, and measures GET
 * /todos?limit=100 with wrk, side by side: servers pinned to CPU 0 and wrk to
 * CPU 1 where single processes are compared. Prints a table and writes JSON and
 * Markdown under results/.
 *
 * BENCH_SECONDS (15) per case, BENCH_WARM_SECONDS (3), BENCH_PIPELINE_SECONDS (60),
 * BENCH_CONNECTIONS (64), BENCH_TODOS (10000), BENCH_ROUNDS (1: each pair once),
 * BENCH_STRICT=1 exits non-zero when a ratio target is missed.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { dataDir, repoRoot, seedTodos, startServices } from "@million-rps/local";
import { cacheKeys, migrate, refreshGeneration } from "@million-rps/shared";
import { Redis } from "ioredis";
import pg from "pg";
import { treeCpuSeconds } from "./cpu";
import {
  type CaseResult,
  type Comparison,
  caseRows,
  compare,
  comparisonRows,
  markdownTable,
  textTable,
} from "./report";
import { fetchRaw, freePort, HERE, type ServerProcess, startServer } from "./servers";
import { runWrk, type WrkOptions } from "./wrk";

const env = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const SECONDS = env("BENCH_SECONDS", 15);
const WARM = env("BENCH_WARM_SECONDS", 3);
const PIPELINE_SECONDS = env("BENCH_PIPELINE_SECONDS", 60);
const CONNECTIONS = env("BENCH_CONNECTIONS", 64);
const TODOS = env("BENCH_TODOS", 10_000);
const ROUNDS = env("BENCH_ROUNDS", 1);
const STRICT = process.env.BENCH_STRICT === "1";
const PATH = "/todos?limit=100";
const SERVER_CPU = "0";
const WRK_CPU = "1";
const PREFIX = "todos";

const say = (msg: string) => console.log(`[bench] ${msg}`);

for (const tool of ["wrk", "taskset"]) {
  try {
    execFileSync("which", [tool], { stdio: "ignore" });
  } catch {
    console.error(
      `${tool} is required (apt-get install -y ${tool === "wrk" ? "wrk" : "util-linux"})`,
    );
    process.exit(2);
  }
}

const startedAt = new Date();
const workDir = dataDir(`bench-${process.pid}`);
const logDir = join(workDir, "logs");
mkdirSync(logDir, { recursive: true });
const load0 = loadavg();
say(
  `load average at start: ${load0.map((n) => n.toFixed(2)).join(" ")} (${availableParallelism()} CPUs)`,
);

// Private instances on free ports: never a developer's running stack.
const services = await startServices({
  profile: "test",
  only: ["postgres", "redis"],
  env: {
    DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/million_rps`,
    REDIS_URL: `redis://127.0.0.1:${await freePort()}/0`,
  },
  onProgress: say,
});
const running: ServerProcess[] = [];
let exitCode = 0;
try {
  const { databaseUrl, redisUrl } = services.endpoints;
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const redis = new Redis(redisUrl);
  await migrate(db);
  const t0 = Date.now();
  const seeded = await seedTodos(db, TODOS);
  say(`seeded ${seeded.inserted} todos in ${Date.now() - t0} ms`);
  const keys = cacheKeys(PREFIX);
  const { generation } = await refreshGeneration({
    redis,
    db,
    keys,
    hotLimits: [100],
    ttlSec: 3600,
  });

  const fleetPort = await freePort();
  const adminPort = await freePort();
  const fleetEnv = {
    HTTP_PORT: String(fleetPort),
    HTTP_HOST: "127.0.0.1",
    ADMIN_PORT: String(adminPort),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    CACHE_KEY_PREFIX: PREFIX,
    CACHE_TTL_SEC: "3600",
    LOG_LEVEL: "warn",
  };
  const main = join(repoRoot, "read-fleet/src/main.ts");
  const fleet = await startServer({
    name: "fleet-1-worker",
    script: main,
    port: fleetPort,
    env: { ...fleetEnv, READ_WORKERS: "1" },
    cpus: SERVER_CPU,
    logDir,
  });
  running.push(fleet);

  // The references serve byte-identical bodies, taken from the fleet itself.
  const identity = (await fetchRaw(fleetPort, PATH)).body;
  const gzipped = await fetchRaw(fleetPort, PATH, { "accept-encoding": "gzip" });
  const etag = String(gzipped.headers.etag ?? "");
  const identityFile = join(workDir, "page.json");
  const gzipFile = join(workDir, "page.json.gz");
  writeFileSync(identityFile, identity);
  writeFileSync(gzipFile, gzipped.body);
  const rawKey = `${PREFIX}:bench:raw-page`;
  await redis.set(rawKey, identity);
  say(
    `page: ${identity.length} bytes identity, ${gzipped.body.length} gzip; generation ${generation}`,
  );
  await redis.quit();
  await db.end();

  const cases: CaseResult[] = [];
  const wrkBase = (port: number, extra: Partial<WrkOptions> = {}): WrkOptions => ({
    url: `http://127.0.0.1:${port}${PATH}`,
    seconds: SECONDS,
    connections: CONNECTIONS,
    threads: 1,
    cpus: WRK_CPU,
    ...extra,
  });
  async function measure(name: string, server: ServerProcess, o: WrkOptions, note = "") {
    await runWrk({ ...o, seconds: WARM });
    const before = treeCpuSeconds(server.pid);
    const r = await runWrk(o);
    const cpuSeconds = treeCpuSeconds(server.pid) - before;
    const { raw: _raw, ...result } = r;
    const c: CaseResult = {
      name,
      server: server.name,
      note,
      ...result,
      cpuSeconds,
      cpuUsPerRequest: (cpuSeconds * 1e6) / Math.max(1, r.requests),
    };
    cases.push(c);
    say(
      `${name}: ${c.rps.toFixed(0)} req/s, p99 ${c.p99Ms.toFixed(2)} ms, ${c.cpuUsPerRequest.toFixed(2)} µs CPU/req, errors ${c.socketErrors}, non-2xx ${c.non2xx}`,
    );
    return c;
  }
  async function withReference<T>(
    name: string,
    script: string,
    extraEnv: Record<string, string>,
    run: (server: ServerProcess) => Promise<T>,
  ): Promise<T> {
    const server = await startServer({
      name,
      script: join(HERE, script),
      port: await freePort(),
      env: extraEnv,
      cpus: SERVER_CPU,
      logDir,
    });
    running.push(server);
    try {
      return await run(server);
    } finally {
      await server.stop();
      running.splice(running.indexOf(server), 1);
    }
  }

  const gzipHeaders = { "Accept-Encoding": "gzip" };
  for (let round = 1; round <= ROUNDS; round++) {
    if (ROUNDS > 1) say(`round ${round} of ${ROUNDS}`);
    const suffix = ROUNDS > 1 ? ` #${round}` : "";
    await withReference("bare-uws-identity", "bare-uws.ts", { BODY_FILE: identityFile }, (s) =>
      measure(`bare uWS, identity${suffix}`, s, wrkBase(s.port), "reference: one prebuilt Buffer"),
    );
    await measure(`fleet 1 worker, identity${suffix}`, fleet, wrkBase(fleetPort));
    await withReference(
      "bare-uws-gzip",
      "bare-uws.ts",
      { BODY_FILE: gzipFile, BODY_ENCODING: "gzip" },
      (s) =>
        measure(
          `bare uWS, gzip${suffix}`,
          s,
          wrkBase(s.port, { headers: gzipHeaders }),
          "reference: one prebuilt gzip Buffer",
        ),
    );
    await measure(
      `fleet 1 worker, gzip${suffix}`,
      fleet,
      wrkBase(fleetPort, { headers: gzipHeaders }),
      "Accept-Encoding: gzip",
    );
    await measure(
      `fleet 1 worker, gzip+br${suffix}`,
      fleet,
      wrkBase(fleetPort, { headers: { "Accept-Encoding": "gzip, br" } }),
      "Accept-Encoding: gzip, br (answers br)",
    );
    await measure(
      `fleet 1 worker, 304${suffix}`,
      fleet,
      wrkBase(fleetPort, { headers: { ...gzipHeaders, "If-None-Match": etag } }),
      "If-None-Match hit",
    );
    await withReference(
      "fastify-ioredis",
      "fastify-redis.ts",
      { REDIS_URL: redisUrl, PAGE_KEY: rawKey },
      (s) =>
        measure(
          `Fastify + ioredis${suffix}`,
          s,
          wrkBase(s.port),
          "reference: getBuffer per request",
        ),
    );
    await withReference(
      "uws-ioredis",
      "uws-redis.ts",
      { REDIS_URL: redisUrl, PAGE_KEY: rawKey },
      (s) => measure(`uWS + ioredis${suffix}`, s, wrkBase(s.port), "reference: the seed's design"),
    );
  }

  // Pipelined: 64 connections x 16 requests in flight, identity bodies.
  const workerPidsBefore = fleetWorkerPids(fleet.pid);
  const pipelined = await measure(
    "fleet 1 worker, pipelined x16",
    fleet,
    wrkBase(fleetPort, { pipeline: 16, seconds: PIPELINE_SECONDS }),
    `depth 16, ${PIPELINE_SECONDS} s`,
  );
  const restarts = await restartsOf(adminPort);
  const workerPidsAfter = fleetWorkerPids(fleet.pid);
  const sameWorker =
    workerPidsBefore.join() === workerPidsAfter.join() && workerPidsAfter.length === 1;
  const pipelineOk =
    pipelined.socketErrors === 0 &&
    pipelined.non2xx === 0 &&
    fleet.alive() &&
    sameWorker &&
    restarts === 0;
  say(
    `pipelined: errors ${pipelined.socketErrors}, non-2xx ${pipelined.non2xx}, supervisor alive ${fleet.alive()}, ` +
      `worker ${workerPidsBefore.join(",")} -> ${workerPidsAfter.join(",")}, restarts ${restarts}: ${pipelineOk ? "OK" : "FAILED"}`,
  );
  if (!pipelineOk) exitCode = 1;
  await fleet.stop();
  running.splice(running.indexOf(fleet), 1);

  // The whole fleet: one worker per CPU, nothing pinned, wrk competing for the same cores.
  const workers = availableParallelism();
  const wholePort = await freePort();
  const whole = await startServer({
    name: "fleet-all-workers",
    script: main,
    port: wholePort,
    env: {
      ...fleetEnv,
      HTTP_PORT: String(wholePort),
      ADMIN_PORT: String(await freePort()),
      READ_WORKERS: String(workers),
    },
    logDir,
  });
  running.push(whole);
  await measure(
    `fleet ${workers} workers (whole box)`,
    whole,
    { ...wrkBase(wholePort), cpus: undefined, threads: 2, connections: CONNECTIONS * 2 },
    `unpinned, wrk -t2 -c${CONNECTIONS * 2} on the same ${workers} cores`,
  );
  await whole.stop();
  running.splice(running.indexOf(whole), 1);

  const pick = (n: string) => (ROUNDS > 1 ? `${n} #${ROUNDS}` : n);
  const comparisons = [
    compare(
      cases,
      "fleet vs bare uWS, identity",
      pick("fleet 1 worker, identity"),
      pick("bare uWS, identity"),
      0.9,
    ),
    compare(
      cases,
      "fleet vs bare uWS, gzip",
      pick("fleet 1 worker, gzip"),
      pick("bare uWS, gzip"),
      0.9,
    ),
    compare(
      cases,
      "fleet (gzip+br -> br) vs bare uWS gzip",
      pick("fleet 1 worker, gzip+br"),
      pick("bare uWS, gzip"),
      0.9,
    ),
    compare(
      cases,
      "fleet vs Fastify + ioredis",
      pick("fleet 1 worker, identity"),
      pick("Fastify + ioredis"),
      4.5,
    ),
    compare(
      cases,
      "fleet vs uWS + ioredis",
      pick("fleet 1 worker, identity"),
      pick("uWS + ioredis"),
      2.5,
    ),
  ].filter((c): c is Comparison => c !== null);

  const load1 = loadavg();
  const conditions =
    `${availableParallelism()} CPUs; load average ${load0.map((n) => n.toFixed(2)).join(" ")} at start, ` +
    `${load1.map((n) => n.toFixed(2)).join(" ")} at end; single-process cases: server on CPU ${SERVER_CPU}, ` +
    `wrk -t1 -c${CONNECTIONS} on CPU ${WRK_CPU}; ${SECONDS} s per case after ${WARM} s warm-up; ` +
    `${identity.length} B identity / ${gzipped.body.length} B gzip bodies; other work on this machine is not stopped.`;
  const cTable = caseRows(cases);
  const kTable = comparisonRows(comparisons);
  console.log(`\n${textTable(cTable)}\n\n${textTable(kTable)}\n\n${conditions}\n`);
  console.log(
    `pipelined depth 16: ${pipelineOk ? "zero errors, every answer 2xx/3xx, process alive, no restart" : "FAILED"}`,
  );

  const resultsDir = join(repoRoot, "results");
  mkdirSync(resultsDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const base = join(resultsDir, `read-bench-${stamp}`);
  writeFileSync(
    `${base}.json`,
    JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        conditions,
        config: { SECONDS, WARM, PIPELINE_SECONDS, CONNECTIONS, TODOS, ROUNDS },
        bodyBytes: { identity: identity.length, gzip: gzipped.body.length },
        cases,
        comparisons,
        pipelined: { ok: pipelineOk, restarts, workerPidsBefore, workerPidsAfter },
      },
      null,
      2,
    ),
  );
  writeFileSync(
    `${base}.md`,
    [
      `# Read path benchmark, ${startedAt.toISOString()}`,
      "",
      `Command: \`npm run bench:read\`. ${conditions}`,
      "",
      markdownTable(cTable),
      "",
      "CPU ratio: the reference's server CPU time per request over the fleet's (above 1: the fleet spends less).",
      "",
      markdownTable(kTable),
      "",
      `Pipelined depth 16 for ${PIPELINE_SECONDS} s: ${pipelineOk ? "zero socket errors, no non-2xx/3xx answer, supervisor and worker alive, no restart" : "FAILED"}.`,
      "",
    ].join("\n"),
  );
  say(`wrote ${base}.json and .md`);
  if (STRICT && comparisons.some((c) => !c.met)) exitCode = 1;
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  for (const s of running) await s.stop();
  await services.stop();
  rmSync(workDir, { recursive: true, force: true });
}
process.exit(exitCode);

function fleetWorkerPids(supervisor: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(supervisor)])
      .toString()
      .trim()
      .split("\n")
      .filter((s) => s !== "")
      .map(Number)
      .sort();
  } catch {
    return [];
  }
}

async function restartsOf(adminPort: number): Promise<number> {
  const text = (await fetchRaw(adminPort, "/metrics")).body.toString();
  const line = text.split("\n").find((l) => l.startsWith("read_fleet_worker_restarts_total"));
  return line === undefined ? 0 : Number(line.split(" ").pop());
}
