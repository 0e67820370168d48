import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitUntil } from "@million-rps/local";

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  alive(): boolean;
  stop(): Promise<void>;
}

export const HERE = fileURLToPath(new URL(".", import.meta.url));

/** GET on a fresh connection, raw bytes (no decompression). */
export function fetchRaw(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.setTimeout(5_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** Starts a script with tsx (pinned to `cpus` when given) and waits until `readyPath` answers 200. */
export async function startServer(opts: {
  name: string;
  script: string;
  port: number;
  env: Record<string, string>;
  cpus?: string;
  logDir: string;
  readyPath?: string;
}): Promise<ServerProcess> {
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const log = createWriteStream(logFile, { flags: "a" });
  const node = [process.execPath, "--import", "tsx", opts.script];
  const [cmd, ...args] = opts.cpus === undefined ? node : ["taskset", "-c", opts.cpus, ...node];
  const child = spawn(cmd as string, args, {
    env: { ...process.env, ...opts.env, PORT: String(opts.port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  await waitUntil(
    `${opts.name} to serve (log: ${logFile})`,
    async () => {
      if (exited) throw new Error(`${opts.name} exited during start-up; see ${logFile}`);
      return (await fetchRaw(opts.port, opts.readyPath ?? "/todos?limit=100")).status === 200;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  return {
    name: opts.name,
    pid: child.pid as number,
    port: opts.port,
    logFile,
    child,
    alive: () => !exited,
    stop: async () => {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
