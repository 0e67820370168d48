import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { childPids, type NativeStack, waitUntil } from "@million-rps/local";
import type { FaultWindow, Recorder } from "./recorder";
import type { PlannedFault } from "./schedule";
import type { Writer } from "./writer";

/** After a dependency is back, clients may still see its effects this long (reconnects, backoff). */
const GRACE_MS = 5_000;

async function answers(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.status === 200;
}

/** Gone, or a zombie nobody reaped yet: either way it holds nothing any more. */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** The postmaster's pid, from the first line of `postmaster.pid` in its data directory. */
export function postmasterPid(pidFileText: string): number | null {
  const pid = Number(pidFileText.split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * What pg_control says about the cluster ("in production" after a SIGKILL: it was not
 * shut down, so the next start runs crash recovery), or why it cannot be read.
 */
function clusterState(pgdata: string): string {
  const root = "/usr/lib/postgresql";
  const version = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "pg_controldata")))
        .sort((a, b) => Number(b) - Number(a))[0]
    : undefined;
  const bin =
    version === undefined ? "pg_controldata" : join(root, version, "bin", "pg_controldata");
  try {
    const out = execFileSync(bin, ["-D", pgdata], { encoding: "utf8", env: { LC_ALL: "C" } });
    return /^Database cluster state:\s*(.+)$/m.exec(out)?.[1]?.trim() ?? "unknown";
  } catch (err) {
    return `unreadable (${err instanceof Error ? err.message.split("\n")[0] : err})`;
  }
}

/** A write accepted and then applied (its command answers `applied` through the read fleet): the worker works again. */
async function writeApplied(
  writer: Writer,
  readUrl: string,
  what: string,
): Promise<{ acceptedMs: number }> {
  const t0 = Date.now();
  const op = await writer.probe();
  if (op === null) throw new Error(`the write API did not accept a probe write after ${what}`);
  const acceptedMs = Date.now() - t0;
  await waitUntil(
    `the worker to apply a write after ${what}`,
    async () => {
      const res = await fetch(`${readUrl}/commands/${op.commandId}`, {
        signal: AbortSignal.timeout(2000),
      });
      const body = (await res.json().catch(() => ({}))) as { status?: string };
      if (res.status === 404) throw new Error(`command ${op.commandId} answered 404`);
      return res.status === 200 && body.status !== "pending";
    },
    { timeoutMs: 180_000, intervalMs: 100 },
  );
  return { acceptedMs };
}

/**
 * Injects one fault and waits until the stack has recovered from it. Returns the
 * window in which its effects may show (what the verdict allows there depends on the kind).
 */
export async function injectFault(
  fault: PlannedFault,
  native: NativeStack,
  recorder: Recorder,
  writer: Writer,
): Promise<FaultWindow> {
  const { stack, services } = native;
  const start = recorder.now();
  let detail = "";
  if (fault.kind === "read-worker") {
    const before = stack.readProcessPids();
    const victim = before[0];
    if (victim === undefined) throw new Error("the read fleet has no worker to kill");
    process.kill(victim, "SIGKILL");
    await waitUntil(
      "the supervisor to replace the killed read worker",
      () => {
        const now = stack.readProcessPids();
        return now.length === native.readProcesses && !now.includes(victim);
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    await waitUntil("the read fleet to be ready", () => answers(`${stack.readUrl}/readyz`), {
      timeoutMs: 60_000,
    });
    detail = `SIGKILL read worker ${victim}; replaced by ${stack.readProcessPids().filter((p) => !before.includes(p))} in ${recorder.now() - start} ms`;
  } else if (fault.kind === "worker") {
    const pid = stack.app("worker").child.pid;
    await stack.kill("worker", "SIGKILL");
    await sleep(fault.downMs);
    await stack.start("worker");
    detail = `SIGKILL worker ${pid}; down ${fault.downMs} ms; started again as ${stack.app("worker").child.pid}`;
  } else if (fault.kind === "postgres") {
    // SIGKILL, not `pg_ctl stop -m immediate` (which is a SIGQUIT the postmaster handles):
    // nothing of Postgres gets to say goodbye; the next start runs crash recovery.
    const instance = services.instances.postgres;
    const pgdata = instance?.home()?.pgdata;
    if (instance === undefined || pgdata === undefined)
      throw new Error("no private Postgres instance to kill");
    const pid = postmasterPid(readFileSync(join(pgdata, "postmaster.pid"), "utf8"));
    if (pid === null) throw new Error(`no postmaster pid in ${pgdata}/postmaster.pid`);
    const backends = childPids(pid);
    process.kill(pid, "SIGKILL");
    // Its backends notice the postmaster's death and exit; a new postmaster refuses to
    // start while any of them still holds the old shared memory.
    await waitUntil(
      "the killed postmaster's processes to exit",
      () => gone(pid) && backends.every(gone),
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    const exitedIn = recorder.now() - start;
    const state = clusterState(pgdata);
    await sleep(fault.downMs);
    const t = recorder.now();
    await instance.start();
    detail = `SIGKILL postmaster ${pid} (${backends.length} children gone in ${exitedIn} ms; pg_control then: "${state}"); down ${fault.downMs} ms; crash recovery and start ${recorder.now() - t} ms`;
  } else {
    const instance = fault.kind === "redis" ? services.instances.redis : services.instances.kafka;
    if (instance === undefined) throw new Error(`no private ${fault.kind} instance to stop`);
    await instance.stop();
    const stoppedIn = recorder.now() - start;
    await sleep(fault.downMs);
    const t = recorder.now();
    await instance.start();
    detail = `${fault.kind} stopped in ${stoppedIn} ms, down ${fault.downMs} ms, started again in ${recorder.now() - t} ms`;
  }
  let recovered = recorder.now();
  if (fault.kind === "kafka" || fault.kind === "postgres" || fault.kind === "worker") {
    // Back when a new write is accepted AND applied: a probe create, verified like every other write.
    const back = recovered;
    const { acceptedMs } = await writeApplied(writer, stack.readUrl, `${fault.kind} returned`);
    recovered = recorder.now();
    detail += `; a new write accepted after ${acceptedMs} ms, applied ${recovered - back} ms after the restart`;
  }
  return { kind: fault.kind, start, end: recovered + GRACE_MS, detail };
}
