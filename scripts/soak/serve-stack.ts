/**
 * Starts the native stack on private services and keeps it up until SIGTERM,
 * for tools outside Node (schemathesis). Writes what they need to a JSON file:
 *
 *   npx tsx scripts/soak/serve-stack.ts --state .data/schemathesis/state.json [--seed 300]
 *
 * Then `npx tsx scripts/soak/check-stack.ts <state.json>` tells whether every
 * process it started is still the same and alive.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { nativeStack } from "@million-rps/local";
import { mintDevToken } from "@million-rps/shared/dev-token";
import { stackState } from "./stack-state";

const { values } = parseArgs({
  options: {
    state: { type: "string" },
    area: { type: "string", default: "schemathesis" },
    seed: { type: "string", default: "300" },
    "read-processes": { type: "string", default: "2" },
  },
});
if (values.state === undefined) {
  console.error("usage: serve-stack.ts --state <file.json> [--area name] [--seed N]");
  process.exit(2);
}
const statePath = values.state;

/** Obviously fake; the stack lives only as long as this process. */
const JWT_SECRET = "schemathesis-fake-secret-not-real-0123456789";
const unexpected: string[] = [];
const launching = nativeStack({
  area: values.area,
  seed: Number(values.seed),
  partitions: 3,
  readProcesses: Number(values["read-processes"]),
  jwtSecret: JWT_SECRET,
  onProgress: (m) => console.log(`[stack] ${m}`),
  onUnexpectedExit: (name, code) => {
    unexpected.push(`${name} exited with ${code}`);
    console.error(`[stack] ${name} exited unexpectedly (code ${code})`);
  },
});

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log("[stack] stopping");
  // Stops whatever is up or still starting, even halfway through the launch.
  await launching.stop();
  process.exit(unexpected.length > 0 ? 1 : code);
}
process.on("SIGTERM", () => void stop(0));
process.on("SIGINT", () => void stop(0));

const native = await launching.launch().catch((err: unknown) => {
  // A stop during the launch: stop() is stopping what was started, then exits.
  if (stopping) return new Promise<never>(() => {});
  throw err;
});

const state = stackState(native.stack, {
  token: await mintDevToken("schemathesis", { secret: JWT_SECRET, ttlSec: 6 * 3600 }),
  logDir: native.logDir,
});
writeFileSync(statePath, JSON.stringify(state, null, 2));
console.log(
  `[stack] ready: reads ${state.readUrl}, writes ${state.writeUrl}; state in ${statePath}`,
);
setInterval(() => {}, 1 << 30);
