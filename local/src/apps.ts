import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { join } from "node:path";
import { dataDir, repoRoot } from "./paths";
import { GiveUp, terminate, waitUntil } from "./proc";

/** One of our own deployables run as a child process, the way its container would run it. */
export interface AppSpec {
  name: string;
  /** Entry file relative to the repo root, run with tsx. */
  entry: string;
  env: Record<string, string>;
  /** Resolves true once the app serves (e.g. /readyz answers 200). */
  ready: () => Promise<boolean>;
}

export interface RunningApp {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** Starts an app with its JSON logs in `.data/<profile>/logs/<name>.log` and waits until it is ready. */
export async function startApp(
  spec: AppSpec,
  profile = "dev",
  onExit?: (code: number | null) => void,
): Promise<RunningApp> {
  const entry = join(repoRoot, spec.entry);
  if (!existsSync(entry)) throw new Error(`${spec.name}: ${spec.entry} does not exist`);
  const logFile = join(dataDir(profile, "logs"), `${spec.name}.log`);
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: repoRoot,
    env: { ...process.env, ...spec.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited = false;
  child.on("exit", (code) => {
    exited = true;
    onExit?.(code);
  });
  await waitUntil(
    `${spec.name} to be ready (log: ${logFile})`,
    async () => {
      if (exited) throw new GiveUp(`${spec.name} exited during start-up; see ${logFile}`);
      return spec.ready();
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  return {
    name: spec.name,
    child,
    logFile,
    async stop() {
      if (child.pid !== undefined && !exited) await terminate(child.pid, 15_000);
    },
  };
}

/** True when `url` answers 200. */
export async function answers200(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.status === 200;
}
