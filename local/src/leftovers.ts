import { setTimeout as sleep } from "node:timers/promises";
import {
  describeOwned,
  isUnder,
  type OwnedProcess,
  ownedProcesses,
  topmost,
} from "./owned-processes";
import { isRunning, type ProcessIdentity, sameIdentity, selfIdentity } from "./process-identity";
import type { StopOptions } from "./teardown";

/**
 * What earlier runs of the harness left behind, and stopping it. A run that was
 * killed (SIGKILL, a crash, a closed terminal before it could stop) leaves its
 * services running; the next start must recognise them as its own leftovers and
 * stop them, not mistake them for a user's own services on the same ports.
 */

/** Processes under `root` whose starter is gone: leftovers of a run that was killed. */
export function leftoversUnder(
  procs: readonly OwnedProcess[],
  root: string,
  running: (id: ProcessIdentity) => boolean = isRunning,
): OwnedProcess[] {
  return procs.filter((p) => isUnder(p.dir, root) && (p.owner === null || !running(p.owner)));
}

/** Processes under `within` that `owner` started. */
export function startedBy(
  procs: readonly OwnedProcess[],
  owner: ProcessIdentity,
  within: string,
): OwnedProcess[] {
  return procs.filter(
    (p) => isUnder(p.dir, within) && p.owner !== null && sameIdentity(p.owner, owner),
  );
}

/** Processes under `dir` that another harness process, still running, started: a second stack in the same place. */
export function runningOthersIn(
  procs: readonly OwnedProcess[],
  dir: string,
  self: ProcessIdentity,
  running: (id: ProcessIdentity) => boolean = isRunning,
): OwnedProcess[] {
  return procs.filter(
    (p) =>
      isUnder(p.dir, dir) && p.owner !== null && !sameIdentity(p.owner, self) && running(p.owner),
  );
}

/** Postgres stops cleanly and at once on SIGINT ("fast shutdown"); on SIGTERM it would wait for every client. */
function politeSignal(part: string): NodeJS.Signals {
  return part === "postgres" ? "SIGINT" : "SIGTERM";
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {} // already gone
}

/**
 * Asks the topmost process of each part to stop (children follow their parent),
 * waits, then kills whatever is left; returns once all of them are gone.
 */
export async function stopOwned(
  procs: readonly OwnedProcess[],
  { graceMs = 20_000, hurry }: StopOptions & { graceMs?: number } = {},
): Promise<void> {
  const alive = () => procs.filter((p) => isRunning(p));
  for (const p of topmost(procs)) send(p.pid, hurry?.aborted ? "SIGKILL" : politeSignal(p.part));
  const deadline = Date.now() + graceMs;
  while (alive().length > 0 && Date.now() < deadline && !hurry?.aborted) await sleep(100);
  for (const p of alive()) send(p.pid, "SIGKILL");
  const killDeadline = Date.now() + 10_000;
  while (alive().length > 0 && Date.now() < killDeadline) await sleep(50);
}

/** Stops every leftover under `root` and says what it found; returns what it stopped. */
export async function reclaimLeftovers(
  root: string,
  say: (message: string) => void,
  options: StopOptions = {},
): Promise<OwnedProcess[]> {
  const left = leftoversUnder(ownedProcesses(root), root);
  if (left.length === 0) return [];
  const starters = [...new Set(left.map((p) => p.owner?.pid ?? "unknown"))].join(", ");
  say(
    `found ${describeOwned(left)} still running from an earlier run (pid ${starters}) that ended ` +
      `without stopping them (killed or crashed); stopping them before starting afresh`,
  );
  const t0 = Date.now();
  await stopOwned(left, options);
  say(`stopped the earlier run's leftovers in ${Date.now() - t0} ms`);
  return left;
}

/** Stops whatever this process started under `within` that is still running: the catch-all of a stop. */
export async function stopStrays(within: string, options: StopOptions = {}): Promise<string[]> {
  const strays = startedBy(ownedProcesses(within), selfIdentity(), within);
  if (strays.length === 0) return [];
  const what = describeOwned(strays);
  await stopOwned(strays, options);
  return [what];
}
