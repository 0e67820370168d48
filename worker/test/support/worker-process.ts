import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "@million-rps/local";
import { freePort, waitUntil } from "@million-rps/local/testing";

/** The worker as its container runs it: a child process we can SIGTERM or SIGKILL. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly adminPort: number;
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  // node --import tsx (not the tsx CLI, which forks): SIGKILL must hit the worker itself.
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "worker/src/main.ts")], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  let text = "";
  let partial = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {}
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, adminPort: Number(env.ADMIN_PORT), logs, exited, output: () => text };
}

/** Starts a worker and waits for its "ready" log line. */
export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const worker = spawnWorker({ ADMIN_PORT: String(await freePort()), ...env });
  let gone = false;
  void worker.exited.then(() => {
    gone = true;
  });
  await waitUntil(
    "the worker's ready line",
    () => {
      if (gone) throw new Error(`worker exited during start-up:\n${worker.output()}`);
      return worker.logs.some((l) => l.msg === "ready");
    },
    { timeoutMs: 60_000 },
  );
  return worker;
}
