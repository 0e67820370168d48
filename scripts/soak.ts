/**
 * Soak under faults: `npm run soak -- --minutes 10` (default 10; `--minutes 1` for a quick check).
 *
 * Starts the whole native stack on private services under `.data/soak/`, seeds it,
 * runs steady mixed traffic at loads that matter (by default 2,000 reads/s, 600 of
 * them pipelined on raw sockets, and 250 writes/s): reads at several limits and
 * pages, by id, command polls; writes with Idempotency-Key, retried on 503 and 409
 * with the same key. On a schedule it SIGKILLs a read-fleet process, stops Redis,
 * SIGKILLs the Postgres postmaster, SIGKILLs the worker and stops the Kafka broker,
 * each time starting it again. At the end it waits for the worker to drain and
 * checks that every write answered 202 was applied exactly once, and that every
 * answer was 2xx or one its fault window allows (recorder.ts, WINDOW_ALLOWS).
 * Prints the summary and writes it as JSON and Markdown under results/. Exit code 0 = pass.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { childPids, type NativeStack, nativeStack, repoRoot } from "@million-rps/local";
import { mintDevToken } from "@million-rps/shared/dev-token";
import { commandIds } from "@million-rps/write-lambdas";
import { injectFault } from "./soak/faults";
import { HttpPool } from "./soak/http1";
import { LoadMeter } from "./soak/load-meter";
import { markdown } from "./soak/markdown";
import { parseSoakOptions, USAGE } from "./soak/options";
import { runAtRate } from "./soak/pace";
import { PipelinedReader } from "./soak/pipelined-reader";
import { Reader } from "./soak/reader";
import { Recorder } from "./soak/recorder";
import { summarize, type UnexpectedExit } from "./soak/report";
import { planSoak } from "./soak/schedule";
import { verifyWrites } from "./soak/verify";
import { Writer } from "./soak/writer";

let options: ReturnType<typeof parseSoakOptions>;
try {
  options = parseSoakOptions(process.argv.slice(2));
} catch (err) {
  console.error(`${err instanceof Error ? err.message : err}\nusage: ${USAGE}`);
  process.exit(2);
}
const plan = planSoak(options.minutes);
/** Obviously fake; the stack lives only as long as this process. */
const JWT_SECRET = "soak-fake-secret-not-real-0123456789abcdef";
/** The stack's COMMAND_ID_SECRET (obviously fake, not the dev default): the soak predicts command ids under it. */
const COMMAND_ID_SECRET = "soak-fake-command-id-secret-not-real-0123456789";
const commandIdSecret = new TextEncoder().encode(COMMAND_ID_SECRET);
const USERS = 8;
/** Requests in flight per kind (reads, writes) before the pacer skips (and counts) them. */
const MAX_IN_FLIGHT = 200;
/** Keep-alive connections the plain readers share; more reads in flight wait in the client. */
const READ_CONNECTIONS = 64;
const log = (m: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}`);

log(
  `${options.minutes} min, ${options.readRps} reads/s (${options.pipelinedRps} pipelined on ${options.pipelinedConnections} connections, bursts of ${options.pipelineDepth}), ${options.writeRps} writes/s; faults: ${plan.faults
    .map((f) => `${f.kind}@${Math.round(f.at / 1000)}s`)
    .join(", ")}`,
);

let native: NativeStack | undefined;
let recorder: Recorder | undefined;
const unexpectedExits: UnexpectedExit[] = [];
let stopping = false;

const launching = nativeStack({
  area: "soak",
  seed: options.seed,
  partitions: options.partitions,
  readProcesses: options.readProcesses,
  jwtSecret: JWT_SECRET,
  env: { COMMAND_ID_SECRET },
  onProgress: (m) => log(m),
  onUnexpectedExit: (app, code) => {
    if (stopping) return;
    // A crash is a finding; start it again so the soak can tell what else breaks.
    unexpectedExits.push({ app, code, atSec: Math.round((recorder?.now() ?? 0) / 1000) });
    log(`!! ${app} exited unexpectedly (code ${code}); starting it again`);
    setTimeout(
      () =>
        void native?.stack
          .start(app)
          .catch((err: unknown) => log(`!! restart of ${app} failed: ${err}`)),
      1000,
    );
  },
});
async function shutdown(code: number): Promise<never> {
  stopping = true;
  // Stops whatever is up or still starting, even halfway through the launch.
  await launching.stop().catch((err: unknown) => console.error("stopping the stack failed", err));
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(130));
process.on("SIGTERM", () => void shutdown(143));

native = await launching.launch().catch((err: unknown) => {
  // A stop during the launch: shutdown() is stopping what was started, then exits.
  if (stopping) return new Promise<never>(() => {});
  throw err;
});

const { stack } = native;
log(`stack up: reads ${stack.readUrl}, writes ${stack.writeUrl}; logs in ${native.logDir}`);

const tokens = new Map<string, string>();
for (let i = 0; i < USERS; i++) {
  tokens.set(
    `soak-${i}`,
    await mintDevToken(`soak-${i}`, { secret: JWT_SECRET, ttlSec: 24 * 3600 }),
  );
}
// The fleet must know the soak's secret, not the dev one: an id issued under the dev secret is 404 here.
const devId = commandIds({ actor: "soak-0", method: "POST", path: "/todos", idempotencyKey: "x" });
const devAnswer = await fetch(`${stack.readUrl}/commands/${devId.commandId}`);
await devAnswer.arrayBuffer();
if (devAnswer.status !== 404) {
  log(
    `!! a command id under the dev secret answered ${devAnswer.status}, not 404: the stack does not use the soak's COMMAND_ID_SECRET`,
  );
  await shutdown(1);
}

recorder = new Recorder();
const rec = recorder;
const { instances } = native.services;
// Postgres and redis-server write their process titles over their environment (the harness's
// marks): their pids come from the harness, and a postmaster's backends are its children.
const meter = new LoadMeter(native.root, () => {
  const pids = new Map<number, string>();
  const redisPid = instances.redis?.pid();
  if (redisPid) pids.set(redisPid, "redis");
  const postmaster = instances.postgres?.pid();
  if (postmaster)
    for (const pid of [postmaster, ...childPids(postmaster)]) pids.set(pid, "postgres");
  return pids;
});
// Raw keep-alive HTTP/1.1 clients (http1.ts): the soak's own CPU per request is a tenth of fetch's.
const readPool = new HttpPool(stack.readUrl, READ_CONNECTIONS);
const writePool = new HttpPool(stack.writeUrl, MAX_IN_FLIGHT + 8, true);
const writer = new Writer({
  send: (method, path, headers, body) => writePool.request(method, path, headers, body),
  commandIdSecret,
  tokens,
  recorder: rec,
  deadlineMs: 180_000,
});
const reader = new Reader({
  get: (path) => readPool.request("GET", path),
  recorder: rec,
  writer,
  seeded: options.seed,
});
const readPacer = runAtRate(
  options.readRps - options.pipelinedRps,
  MAX_IN_FLIGHT,
  () => reader.inFlight,
  () => reader.startOne(),
);
const pipelined = new PipelinedReader({
  readUrl: stack.readUrl,
  recorder: rec,
  connections: options.pipelinedConnections,
  depth: options.pipelineDepth,
  perSecond: options.pipelinedRps,
});
if (options.pipelinedRps > 0) pipelined.start();
const writePacer = runAtRate(
  options.writeRps,
  MAX_IN_FLIGHT,
  () => writer.inFlight,
  () => writer.startOne(),
);

for (const fault of plan.faults) {
  // Never two faults at once: the next waits for the previous window (recovery + grace) to close.
  const wait = Math.max(fault.at, rec.windows.at(-1)?.end ?? 0) - rec.now();
  if (wait > 0) await sleep(wait);
  log(`fault: ${fault.kind} (down ${fault.downMs} ms)`);
  const faultStart = rec.now();
  try {
    const window = await injectFault(fault, native, rec, writer);
    rec.windows.push(window);
    log(`  recovered: ${window.detail}`);
  } catch (err) {
    log(`!! fault ${fault.kind} failed: ${err instanceof Error ? err.message : err}`);
    rec.windows.push({
      kind: fault.kind,
      start: faultStart,
      end: rec.now(),
      detail: `FAILED: ${err}`,
    });
    unexpectedExits.push({
      app: `fault ${fault.kind}`,
      code: null,
      atSec: Math.round(rec.now() / 1000),
    });
  }
}
// Traffic runs the planned time, and past it if recoveries ran late, for a steady tail after the last fault.
const lastEnd = rec.windows.at(-1)?.end ?? 0;
await sleep(Math.max(plan.durationMs, lastEnd + plan.tailMs) - rec.now());
const trafficMs = rec.now();
const [readPace, writePace, pipelinedPace] = await Promise.all([
  readPacer.stop(),
  writePacer.stop(),
  pipelined.stop(),
]);
const load = meter.stop();
log(
  `traffic stopped; waiting for ${writer.inFlight} writes and ${reader.inFlight} reads in flight`,
);
while (writer.inFlight + reader.inFlight > 0) await sleep(100);
readPool.close();
writePool.close();

log("waiting for the worker to drain, then checking every accepted write");
const verdict = await verifyWrites(native.databaseUrl, stack.readUrl, writer);
const summary = summarize(
  rec,
  plan,
  { reads: readPace, writes: writePace, pipelined: pipelinedPace },
  verdict,
  unexpectedExits,
  {
    trafficMs,
    load,
    pipeline: pipelined.stats,
    ops: writer.ops,
    target: { reads: options.readRps, pipelined: options.pipelinedRps, writes: options.writeRps },
  },
);
const text = markdown(summary);
console.log(`\n${text}`);
const dir = join(repoRoot, options.resultsDir);
mkdirSync(dir, { recursive: true });
const base = join(dir, `soak-${summary.startedAt.replaceAll(":", "-").replace(".", "-")}`);
writeFileSync(`${base}.json`, JSON.stringify({ ...summary, verdict }, null, 2));
writeFileSync(`${base}.md`, text);
log(`summary written to ${base}.json and .md`);
await shutdown(summary.pass ? 0 : 1);
