/**
 * Soak under faults: `npm run soak -- --minutes 10` (default 10; `--minutes 1` for a quick check).
 *
 * Starts the whole native stack on private services under `.data/soak/`, seeds it,
 * runs steady mixed traffic (reads at several limits and pages, by id, command
 * polls; writes with Idempotency-Key, retried on 503 with the same key), and on a
 * schedule kills a read-fleet worker, stops Redis, kills the worker and stops the
 * Kafka broker, each time starting it again. At the end it waits for the worker to
 * drain and checks that every write answered 202 was applied exactly once. Prints
 * the summary and writes it as JSON and Markdown under results/. Exit code 0 = pass.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, sleep } from "@million-rps/local";
import { mintDevToken } from "@million-rps/write-lambdas";
import { injectFault } from "./soak/faults";
import { markdown } from "./soak/markdown";
import { type NativeStack, nativeStack } from "./soak/native-stack";
import { parseSoakOptions, USAGE } from "./soak/options";
import { runAtRate } from "./soak/pace";
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
const USERS = 8;
const MAX_IN_FLIGHT = 200;
const log = (m: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}`);

log(
  `${options.minutes} min, ${options.readRps} reads/s, ${options.writeRps} writes/s; faults: ${plan.faults
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
  readWorkers: options.readWorkers,
  jwtSecret: JWT_SECRET,
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
recorder = new Recorder();
const rec = recorder;
const writer = new Writer({ writeUrl: stack.writeUrl, tokens, recorder: rec, deadlineMs: 180_000 });
const reader = new Reader({ readUrl: stack.readUrl, recorder: rec, writer, seeded: options.seed });
const readPacer = runAtRate(
  options.readRps,
  MAX_IN_FLIGHT,
  () => reader.inFlight,
  () => reader.startOne(),
);
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
const [readPace, writePace] = await Promise.all([readPacer.stop(), writePacer.stop()]);
log(
  `traffic stopped; waiting for ${writer.inFlight} writes and ${reader.inFlight} reads in flight`,
);
while (writer.inFlight + reader.inFlight > 0) await sleep(100);

log("waiting for the worker to drain, then checking every accepted write");
const verdict = await verifyWrites(native.databaseUrl, stack.readUrl, writer);
const summary = summarize(
  rec,
  plan,
  { reads: readPace, writes: writePace },
  verdict,
  unexpectedExits,
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
