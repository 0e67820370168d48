import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { dataDir, repoRoot } from "@million-rps/local";

/** One of our deployables run as its container runs it, logs to a file, for the benchmark. */
export interface BenchProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** CPU seconds (user + system) the process used so far, from /proc. */
  cpuSeconds(): number;
  stop(): Promise<number | null>;
}

/** Ready when it logs `"msg":"ready"`, or when `readyUrl` answers 200. */
export async function startProcess(
  name: string,
  entry: string,
  env: Record<string, string>,
  logDir: string,
  readyUrl?: string,
  nodeArgs: readonly string[] = [],
): Promise<BenchProcess> {
  const logFile = join(dataDir(logDir), `${name}.log`);
  const log = createWriteStream(logFile, { flags: "w" });
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", join(repoRoot, entry)], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let ready = false;
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    if (ready) return;
    buffered += chunk.toString();
    if (/"msg":"ready"/.test(buffered)) ready = true;
  });
  const deadline = Date.now() + 60_000;
  while (!(readyUrl === undefined ? ready : await answers200(readyUrl))) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start-up; see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`${name} not ready after 60 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name,
    child,
    logFile,
    cpuSeconds: () => (child.pid === undefined ? 0 : processCpuSeconds(child.pid)),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function answers200(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
