import { spawn } from "node:child_process";
import { openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { isAlive, MissingBinaryError, readPid, terminate, waitUntil, which } from "./proc";

/** A private redis-server on its own port, no persistence (the cache is rebuildable). */
export interface RedisInstance {
  readonly name: "redis";
  readonly url: string;
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The redis-server process id while it runs (benchmarks pin it and count its CPU time). */
  pid(): number | null;
}

export function redisInstance(dataDir: string, port: number): RedisInstance {
  const url = `redis://127.0.0.1:${port}/0`;
  const pidFile = join(dataDir, "redis.pid");

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

  async function start(): Promise<void> {
    const stale = readPid(pidFile);
    if (stale !== null && isAlive(stale) && (await ping().catch(() => false))) return;
    const bin = which("redis-server", ["/usr/bin", "/usr/local/bin"]);
    if (bin === null) throw new MissingBinaryError("redis-server", "redis-server");
    const log = openSync(join(dataDir, "redis.log"), "a");
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
      ],
      { stdio: ["ignore", log, log], detached: true },
    );
    child.unref();
    if (child.pid === undefined) throw new Error("redis-server did not start");
    writeFileSync(pidFile, String(child.pid));
    await waitUntil(`Redis on 127.0.0.1:${port}`, ping, { timeoutMs: 15_000 });
  }

  async function stop(): Promise<void> {
    const pid = readPid(pidFile);
    if (pid !== null) await terminate(pid, 5_000);
  }

  const pid = () => {
    const p = readPid(pidFile);
    return p !== null && isAlive(p) ? p : null;
  };
  return { name: "redis", url, port, start, stop, pid };
}
