import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { StartupError } from "./errors";
import { ownedEnv } from "./owned-processes";
import { dataDir, repoRoot } from "./paths";
import { terminate, waitUntil } from "./proc";
import { writeProcessRecord } from "./process-record";
import type { StopOptions } from "./teardown";

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
  /** Stops the app (SIGTERM; SIGKILL after 15 s, or at once with `hurry`). */
  stop(options?: StopOptions): Promise<void>;
}

/** An app whose process runs, and which may still be getting ready. */
export interface LaunchedApp extends RunningApp {
  /** Resolves once the app serves; rejects if it exits first, or when `signal` aborts. */
  ready(signal?: AbortSignal): Promise<void>;
}

/**
 * Spawns an app with its JSON logs in `.data/<profile>/logs/<name>.log` and a pid
 * file beside them, and returns at once: the caller can stop it while it is still
 * getting ready.
 */
export function launchApp(
  spec: AppSpec,
  profile = "dev",
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void,
): LaunchedApp {
  const entry = join(repoRoot, spec.entry);
  if (!existsSync(entry)) throw new Error(`${spec.name}: ${spec.entry} does not exist`);
  const logDir = dataDir(profile, "logs");
  const logFile = join(logDir, `${spec.name}.log`);
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: repoRoot,
    env: { ...process.env, ...spec.env, ...ownedEnv(spec.name, dataDir(profile)) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited = false;
  child.on("exit", (code, signal) => {
    exited = true;
    onExit?.(code, signal);
  });
  const pidFile = join(logDir, `${spec.name}.pid`);
  if (child.pid !== undefined) {
    writeProcessRecord(pidFile, child.pid, {
      part: spec.name,
      command: `node --import tsx ${spec.entry}`,
    });
  }
  return {
    name: spec.name,
    child,
    logFile,
    async ready(signal?: AbortSignal) {
      await waitUntil(
        `${spec.name} to be ready (log: ${logFile})`,
        async () => {
          if (exited)
            throw new StartupError(
              `${spec.name} exited during start-up`,
              `Its log is ${logFile}: the last lines say why.`,
            );
          return spec.ready();
        },
        { timeoutMs: 60_000, intervalMs: 200, ...(signal && { signal }) },
      );
    },
    async stop(options: StopOptions = {}) {
      // It may have stopped already: Ctrl-C reaches every process of the terminal's group.
      if (child.pid !== undefined && !exited) await terminate(child.pid, 15_000, options.hurry);
      rmSync(pidFile, { force: true });
    },
  };
}

/** Starts an app and waits until it is ready; one that does not get ready is stopped again. */
export async function startApp(
  spec: AppSpec,
  profile = "dev",
  onExit?: (code: number | null) => void,
): Promise<RunningApp> {
  const app = launchApp(spec, profile, onExit);
  try {
    await app.ready();
  } catch (err) {
    await app.stop();
    throw err;
  }
  return app;
}

/** True when `url` answers 200. */
export async function answers200(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.status === 200;
}
