import { sleep, waitUntil } from "@million-rps/local";
import type { NativeStack } from "./native-stack";
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
    const before = stack.readWorkerPids();
    const victim = before[0];
    if (victim === undefined) throw new Error("the read fleet has no worker to kill");
    process.kill(victim, "SIGKILL");
    await waitUntil(
      "the supervisor to replace the killed read worker",
      () => {
        const now = stack.readWorkerPids();
        return now.length === native.readWorkers && !now.includes(victim);
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    await waitUntil("the read fleet to be ready", () => answers(`${stack.readUrl}/readyz`), {
      timeoutMs: 60_000,
    });
    detail = `SIGKILL read worker ${victim}; replaced by ${stack.readWorkerPids().filter((p) => !before.includes(p))} in ${recorder.now() - start} ms`;
  } else if (fault.kind === "worker") {
    const pid = stack.app("worker").child.pid;
    await stack.kill("worker", "SIGKILL");
    await sleep(fault.downMs);
    await stack.start("worker");
    detail = `SIGKILL worker ${pid}; down ${fault.downMs} ms; started again as ${stack.app("worker").child.pid}`;
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
  if (fault.kind === "kafka") {
    // Back when the write API accepts a write again: a probe create, verified like every other write.
    const back = recovered;
    if (!(await writer.probe()))
      throw new Error("the write API did not accept a write after Kafka returned");
    recovered = recorder.now();
    detail += `; a write accepted again ${recovered - back} ms later`;
  }
  return { kind: fault.kind, start, end: recovered + GRACE_MS, detail };
}
