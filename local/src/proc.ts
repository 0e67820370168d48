import { type SpawnOptions, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer, Socket } from "node:net";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { StartupError, StopRequested } from "./errors";

export { MissingBinaryError } from "./errors";

export function which(binary: string, extraDirs: readonly string[] = []): string | null {
  for (const dir of [...extraDirs, ...(process.env.PATH ?? "").split(delimiter)]) {
    const p = join(dir, binary);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion; rejects with its output when it fails. With a
 * `signal`, an abort kills the command and rejects with StopRequested.
 */
export function run(
  cmd: string,
  args: readonly string[],
  options: SpawnOptions & { allowFail?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", (err) => reject(err.name === "AbortError" ? new StopRequested() : err));
    child.on("close", (code) => {
      if (code === 0 || options.allowFail) resolvePromise({ code, stdout, stderr });
      else {
        // Both streams: Maven, for one, prints its errors on stdout and colour codes on stderr.
        const output = [stderr, stdout]
          .map(withoutColours)
          .filter((t) => t !== "")
          .join("\n");
        reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}\n${output}`.trim()));
      }
    });
  });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC.
const COLOUR_CODES = /\u001b\[[0-9;]*m/g;

function withoutColours(text: string): string {
  return text.replace(COLOUR_CODES, "").trim();
}

/** Sleeps `ms`, or less when `signal` aborts first (the caller checks the signal). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return sleep(ms);
  return new Promise((resolvePromise) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolvePromise();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Thrown from a `waitUntil` check to stop waiting at once (the awaited thing cannot
 * happen); a StartupError thrown there ends the wait the same way.
 */
export class GiveUp extends Error {
  override name = "GiveUp";
}

/**
 * Polls `check` until it returns true; the error names what was awaited. An aborted
 * `signal` ends the wait at once with StopRequested (a stop was asked for meanwhile).
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  {
    timeoutMs = 30_000,
    intervalMs = 100,
    signal,
  }: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (signal?.aborted) throw new StopRequested();
    try {
      if (await check()) return;
    } catch (err) {
      // The awaited thing cannot happen any more (it says why, and what to do).
      if (err instanceof GiveUp || err instanceof StartupError) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await pause(intervalMs, signal);
  }
}

/** True when something accepts TCP connections on host:port. */
export function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolvePromise(port));
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends SIGTERM, waits, then SIGKILL: a stop that always ends. An aborted `hurry`
 * (a second Ctrl-C) skips the rest of the wait.
 */
export async function terminate(pid: number, graceMs = 10_000, hurry?: AbortSignal): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, hurry?.aborted ? "SIGKILL" : "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline && !hurry?.aborted) await pause(50, hurry);
  if (isAlive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
    while (isAlive(pid)) await sleep(20);
  }
}
