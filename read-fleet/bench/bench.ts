/**
 * Read path benchmark: `npm run bench:read`.
 *
 * Starts private Postgres and Redis, seeds 10,000 todos, starts the read fleet and
 * the reference servers one at a time, warms each, and measures GET
 * /todos?limit=100 with wrk, side by side: servers pinned to CPU 0 and wrk to
 * CPU 1 where single processes are compared. redis-server shares CPU 0 with the
 * server: it is part of the server side of the designs that read it per request, so
 * the targets are judged on req/s and on CPU per request with Redis counted (the
 * server-only CPU is printed beside it). Prints a table and writes JSON and
 * Markdown under results/.
 *
 * Then "reads while the world changes" (world-cases.ts): the whole native stack
 * (Postgres, Redis, Kafka, worker, write API, read fleet with 2 processes), wrk
 * unpinned while POST /todos flows through the write API at BENCH_WRITE_RATES; the
 * random-id and random-page workloads at BENCH_WORKLOAD_RATES; cache busters; a
 * pipelining client that frames every response, under writes and from a cold start.
 * Writes an SVG chart beside the JSON and Markdown.
 *
 * BENCH_SECONDS (10) per case, BENCH_WARM_SECONDS (3), BENCH_PIPELINE_SECONDS (60),
 * BENCH_CONNECTIONS (64), BENCH_TODOS (10000), BENCH_ROUNDS (3: the single-process
 * cases alternate this many times; the table shows medians), BENCH_STRICT=1
 * exits non-zero when a ratio target is missed. A pipelined run with any error, a
 * dead process or a restarted uWS process always fails the benchmark.
 * BENCH_ONLY=floor|world runs one half. World knobs: BENCH_WRITE_RATES
 * (100,500,2000), BENCH_WORKLOAD_RATES (100,500), BENCH_WORLD_ROUNDS (BENCH_ROUNDS),
 * BENCH_PIPELINE_WRITES (20), BENCH_COLD_SECONDS (10), BENCH_READ_PROCESSES (2),
 * BENCH_PARTITIONS (6), BENCH_WRITES_IN_FLIGHT (64), BENCH_PACED_DELAY_MS (2; 0: no paced cases).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { dataDir } from "@million-rps/local";
import { runCases } from "./cases";
import { type FloorRun, publishResults } from "./results";
import { say, settings } from "./settings";
import { startStack } from "./stack";
import { runWorldCases, type WorldRun } from "./world-cases";

for (const tool of ["wrk", "taskset", "pgrep"]) {
  try {
    execFileSync("which", [tool], { stdio: "ignore" });
  } catch {
    console.error(`${tool} is required (Debian: apt-get install -y wrk util-linux procps)`);
    process.exit(2);
  }
}

const startedAt = new Date();
const workDir = dataDir(`bench-${process.pid}`);
mkdirSync(join(workDir, "logs"), { recursive: true });
const load0 = loadavg();
const fmtLoad = (l: number[]) => l.map((n) => n.toFixed(2)).join(" ");
say(`load average at start: ${fmtLoad(load0)} (${availableParallelism()} CPUs)`);

let exitCode = 0;
let floor: FloorRun | null = null;
let world: WorldRun | null = null;
try {
  if (settings.only !== "world") {
    const stack = await startStack();
    try {
      const run = await runCases(stack, workDir);
      const conditions =
        `${availableParallelism()} CPUs; load average ${fmtLoad(load0)} at start, ${fmtLoad(loadavg())} ` +
        `at end of these cases (other work on this machine is not stopped); single-process cases: server and ` +
        `redis-server pinned to CPU ${settings.serverCpu}, wrk -t1 -c${settings.connections} pinned to CPU ${settings.wrkCpu}; ` +
        `${settings.seconds} s per case after ${settings.warmSeconds} s of warm-up, the single-process ` +
        `cases in ${settings.rounds} alternating round(s), medians shown; page of 100 todos: ` +
        `${run.bodyBytes.identity} B identity, ${run.bodyBytes.gzip} B gzip.`;
      floor = { conditions, ...run };
    } finally {
      await stack.services.stop();
    }
  }
  if (settings.only !== "floor") {
    const loadBefore = loadavg();
    world = await runWorldCases(workDir);
    world.conditions += ` Load average ${fmtLoad(loadBefore)} before these cases, ${fmtLoad(loadavg())} after.`;
  }
  const published = publishResults({ startedAt, floor, world });
  if (floor !== null && !floor.pipelined.ok) exitCode = 1;
  // A crashed or restarted part of the stack is a failure, whatever the figures.
  if (world !== null && world.unexpectedExits.length > 0) exitCode = 1;
  if (settings.strict) {
    if (floor?.comparisons.some((c) => !c.met)) exitCode = 1;
    if (published.worldComparisons.some((c) => !c.met)) exitCode = 1;
  }
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
process.exit(exitCode);
