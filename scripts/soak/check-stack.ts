/**
 * `npx tsx scripts/soak/check-stack.ts <state.json>`: exits 1 (and says why) when
 * a process serve-stack.ts started died or restarted, or a health check fails.
 */
import { readFileSync } from "node:fs";
import { checkStack, type StackState } from "./stack-state";

const file = process.argv[2];
if (file === undefined) {
  console.error("usage: check-stack.ts <state.json>");
  process.exit(2);
}
const state = JSON.parse(readFileSync(file, "utf8")) as StackState;
const problems = await checkStack(state);
if (problems.length > 0) {
  for (const p of problems) console.error(`✗ ${p}`);
  process.exit(1);
}
console.log(
  `✓ every process alive and unchanged (worker ${state.pids.worker}, write-api ${state.pids.writeApi}, read fleet ${state.pids.readFleet} with uWS processes ${state.pids.readProcesses.join(",")}); health checks 200`,
);
