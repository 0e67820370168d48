import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { dataDir, repoRoot, type ServiceEndpoints } from "@million-rps/local";

/** One of our deployables run as its container runs it, logs to a file, for the benchmark. */
export interface BenchProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** The "ready" log line, parsed (empty when readiness came from a URL). */
  readonly readyLine: Record<string, unknown>;
  /** CPU seconds (user + system) the process used so far, from /proc. */
  cpuSeconds(): number;
  stop(): Promise<number | null>;
}

/**
 * What every deployable a benchmark starts is given: the services, the run's own
 * command topic and cache key prefix, and any free admin port (the ready line says which).
 */
export function benchEnv(services: ServiceEndpoints, topic: string): Record<string, string> {
  return {
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    KAFKA_BROKERS: services.kafkaBrokers.join(","),
    KAFKA_TODO_TOPIC: topic,
    CACHE_KEY_PREFIX: `bench-${topic}`,
    ADMIN_PORT: "0",
  };
}

/**
 * The worker's cache knobs, taken from this process's environment when set, so an A/B
 * of one (`CACHED_PAGES_MAX=0 npm run bench:write`) reaches the worker it measures:
 * the bench's processes get no other variable of ours.
 */
export const WORKER_KNOBS = [
  "CACHED_PAGES_MAX",
  "CACHED_PAGES_PUSH_BYTES",
  "GENERATION_MIN_INTERVAL_MS",
  "HOT_PAGES",
] as const;

/** The write API's knob passed the same way (`KAFKA_PRODUCERS=2 npm run bench:write`). */
export const WRITE_API_KNOBS = ["KAFKA_PRODUCERS"] as const;

function knobsSet(names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = process.env[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

export function workerKnobs(): Record<string, string> {
  return knobsSet(WORKER_KNOBS);
}

export function writeApiKnobs(): Record<string, string> {
  return knobsSet(WRITE_API_KNOBS);
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
  let readyLine: Record<string, unknown> = {};
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    if (ready) return;
    buffered += chunk.toString();
    const line = buffered.split("\n").find((l) => l.includes('"msg":"ready"'));
    if (line === undefined) return;
    ready = true;
    try {
      readyLine = JSON.parse(line) as Record<string, unknown>;
    } catch {}
  });
  const deadline = Date.now() + 60_000;
  while (!(readyUrl === undefined ? ready : await answers200(readyUrl))) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start-up; see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`${name} not ready after 60 s; see ${logFile}`);
    await sleep(50);
  }
  return {
    name,
    child,
    logFile,
    readyLine,
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

function statFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/**
 * CPU seconds a Postgres cluster used so far: the postmaster, its live backends, and
 * the backends that already exited (the postmaster's waited-for children time).
 */
export function postgresCpuSeconds(pgdata: string): number {
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(join(pgdata, "postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return 0;
  }
  const own = statFields(postmaster);
  if (own === null) return 0;
  // Fields after the name: [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime.
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const f = statFields(entry);
    if (f !== null && Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / 100;
}

/** The worker's /metrics as name{labels} -> value, for the figures the report derives. */
export async function scrapeMetrics(port: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const line of text.split("\n")) {
      const m = /^(worker_[a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line);
      if (m?.[1] !== undefined && !m[1].includes("_bucket")) out[m[1]] = Number(m[2]);
    }
  } catch {}
  return out;
}
