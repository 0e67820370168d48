import { spawn, spawnSync } from "node:child_process";
import { existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { lastLines, MissingBinaryError, StartupError } from "./errors";
import { ownedEnv } from "./owned-processes";
import { isAlive, waitUntil, which } from "./proc";
import { recordedProcess, stopRecordedProcess, writeProcessRecord } from "./process-record";
import { type StopOptions, throwIfStopping } from "./teardown";

/** A private redis-server on its own port, no persistence (the cache is rebuildable). */
export interface RedisInstance {
  readonly name: "redis";
  readonly url: string;
  readonly port: number;
  /** Starts redis-server unless ours already runs; an aborted `signal` gives up the wait. */
  start(signal?: AbortSignal): Promise<void>;
  /** Stops it if it runs (SIGTERM; SIGKILL after 5 s, or at once with `hurry`). */
  stop(options?: StopOptions): Promise<void>;
  /** The redis-server process id while it runs (benchmarks pin it and count its CPU time). */
  pid(): number | null;
}

export function findRedisServer(): string | null {
  return which("redis-server", ["/usr/bin", "/usr/local/bin", "/usr/sbin"]);
}

/**
 * redis-server writes its process title over its environment, wiping the marks the
 * harness finds its processes by (owned-processes.ts); `set-proc-title no` (Redis
 * 6.2+) keeps them. Older servers refuse the option, so it is only passed to newer ones.
 */
function keepEnvironmentArgs(bin: string): string[] {
  const version = /v=(\d+)\.(\d+)/.exec(
    spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout ?? "",
  );
  const [major, minor] = [Number(version?.[1] ?? 0), Number(version?.[2] ?? 0)];
  return major > 6 || (major === 6 && minor >= 2) ? ["--set-proc-title", "no"] : [];
}

export function redisInstance(dataDir: string, port: number): RedisInstance {
  const url = `redis://127.0.0.1:${port}/0`;
  const pidFile = join(dataDir, "redis.pid");
  const logFile = join(dataDir, "redis.log");

  async function ping(): Promise<boolean> {
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 500,
    });
    client.on("error", () => {});
    try {
      await client.connect();
      return (await client.ping()) === "PONG";
    } finally {
      client.disconnect();
    }
  }

  async function start(signal?: AbortSignal): Promise<void> {
    throwIfStopping(signal);
    if (recordedProcess(pidFile) !== null && (await ping().catch(() => false))) return;
    const bin = findRedisServer();
    if (bin === null) throw new MissingBinaryError("redis-server", "redis-server");
    const log = openSync(logFile, "a");
    // Its own process group: Ctrl-C in the terminal reaches `npm start`, which stops this in order.
    const child = spawn(
      bin,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dataDir,
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
        ...keepEnvironmentArgs(bin),
      ],
      {
        stdio: ["ignore", log, log],
        detached: true,
        env: { ...process.env, ...ownedEnv("redis", dataDir) },
      },
    );
    child.unref();
    if (child.pid === undefined) throw new Error(`redis-server did not start; see ${logFile}`);
    const pid = child.pid;
    writeProcessRecord(pidFile, pid, { part: "redis", command: bin, port });
    await waitUntil(
      `Redis on 127.0.0.1:${port} (log: ${logFile})`,
      async () => {
        if (!isAlive(pid)) {
          const tail = existsSync(logFile) ? lastLines(readFileSync(logFile, "utf8"), 3) : "";
          throw new StartupError(
            `redis-server exited on start: ${tail}`,
            `Its whole log is ${logFile}. If another program holds port ${port}, point REDIS_URL at a free port.`,
          );
        }
        return ping();
      },
      { timeoutMs: 15_000, signal },
    );
  }

  async function stop(options: StopOptions = {}): Promise<void> {
    await stopRecordedProcess(pidFile, 5_000, options);
  }

  const pid = () => recordedProcess(pidFile)?.pid ?? null;
  return { name: "redis", url, port, start, stop, pid };
}
