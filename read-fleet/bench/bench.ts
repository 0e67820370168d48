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
 * BENCH_SECONDS (10) per case, BENCH_WARM_SECONDS (3), BENCH_PIPELINE_SECONDS (60),
 * BENCH_CONNECTIONS (64), BENCH_TODOS (10000), BENCH_ROUNDS (3: the single-process
 * cases alternate this many times; the table shows medians), BENCH_STRICT=1
 * exits non-zero when a ratio target is missed. A pipelined run with any error, a
 * dead process or a restarted worker always fails the benchmark.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { dataDir } from "@million-rps/local";
import { runCases } from "./cases";
import { publishResults } from "./results";
import { say, settings } from "./settings";
import { startStack } from "./stack";

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

const stack = await startStack();
let exitCode = 0;
try {
  const run = await runCases(stack, workDir);
  const conditions =
    `${availableParallelism()} CPUs; load average ${fmtLoad(load0)} at start, ${fmtLoad(loadavg())} ` +
    `at end (other work on this machine is not stopped); single-process cases: server and ` +
    `redis-server pinned to CPU ${settings.serverCpu}, wrk -t1 -c${settings.connections} pinned to CPU ${settings.wrkCpu}; ` +
    `${settings.seconds} s per case after ${settings.warmSeconds} s of warm-up, the single-process ` +
    `cases in ${settings.rounds} alternating round(s), medians shown; page of 100 todos: ` +
    `${run.bodyBytes.identity} B identity, ${run.bodyBytes.gzip} B gzip.`;
  publishResults({ startedAt, conditions, ...run });
  if (!run.pipelined.ok) exitCode = 1;
  if (settings.strict && run.comparisons.some((c) => !c.met)) exitCode = 1;
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  await stack.services.stop();
  rmSync(workDir, { recursive: true, force: true });
}
process.exit(exitCode);
