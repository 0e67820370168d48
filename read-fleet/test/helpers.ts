import { request } from "node:http";
import { connect } from "node:net";
import { freePort, freshKeyPrefix, testServices } from "@million-rps/local/testing";
import {
  allocateGeneration,
  type CacheKeys,
  publishChanges,
  queryTodoStates,
} from "@million-rps/shared";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import { loadConfig, type ReadFleetConfig } from "../src/config";
import { type ReadServer, startReadServer } from "../src/server";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Bytes as sent (no decompression). */
  body: Buffer;
}

/** One request on a fresh connection, body bytes exactly as the server sent them. */
export function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = "GET",
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method, headers, agent: false, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout: ${method} ${path}`)));
    req.on("error", reject);
    req.end();
  });
}

export function json<T = unknown>(r: RawResponse): T {
  return JSON.parse(r.body.toString("utf8")) as T;
}

/**
 * Inserts `count` todos in one statement. Every `tieEvery`-th row shares its
 * created_at with the row before it, so keyset pagination must break ties by id.
 */
export async function insertTodos(db: Pool, count: number, tieEvery = 5): Promise<void> {
  await db.query(
    `INSERT INTO todos (id, title, description, completed, user_id, created_at, updated_at)
     SELECT gen_random_uuid(), 'todo ' || i, 'about ' || i, i % 2 = 0, 'user-' || (i % 7),
            ts, ts
     FROM generate_series(1, $1::int) AS i,
          LATERAL (SELECT timestamptz '2026-01-01' + ((i - (CASE WHEN i % $2::int = 0 THEN 1 ELSE 0 END))
                   * interval '1 millisecond') AS ts) t`,
    [count, tieEvery],
  );
}

export async function testConfig(env: Record<string, string> = {}): Promise<ReadFleetConfig> {
  const services = testServices();
  return loadConfig({
    HTTP_PORT: String(await freePort()),
    HTTP_HOST: "127.0.0.1",
    REDIS_URL: services.redisUrl,
    DATABASE_URL: services.databaseUrl,
    CACHE_KEY_PREFIX: freshKeyPrefix(),
    CHANGE_POLL_MS: "200",
    LOG_LEVEL: "warn",
    ...env,
  });
}

export async function startTestServer(env: Record<string, string> = {}): Promise<ReadServer> {
  return startReadServer(await testConfig(env));
}

/** Fires requests back to back from `concurrency` loops until stopped; counts statuses. */
export function loadLoop(port: number, paths: readonly string[], concurrency = 8) {
  const statuses = new Map<number | string, number>();
  let running = true;
  let total = 0;
  const loops = Array.from({ length: concurrency }, async (_, n) => {
    for (let i = n; running; i++) {
      const path = paths[i % paths.length] as string;
      let key: number | string;
      try {
        key = (await get(port, path)).status;
      } catch (err) {
        key = (err as Error).message;
      }
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      total++;
    }
  });
  return {
    statuses,
    get total() {
      return total;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      return statuses;
    },
  };
}

export function metricValue(text: string, name: string, labels: Record<string, string> = {}) {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/**
 * What the worker does after a commit, for tests that change Postgres directly:
 * allocate a generation, then publish the current state of `ids` under it.
 */
export async function publishChange(
  redis: Redis,
  keys: CacheKeys,
  db: Pool,
  ids: readonly string[],
): Promise<number> {
  const generation = await allocateGeneration(redis, keys);
  const states = await queryTodoStates(db, ids);
  await publishChanges(redis, keys, {
    generation,
    reset: false,
    changes: states.map((s) => ({ id: s.id, position: s.position })),
  });
  return generation;
}

/** Sends `paths` pipelined on one connection; resolves with each answer's status, in order. */
export function pipelined(
  port: number,
  paths: readonly string[],
): Promise<{ statuses: number[]; closedEarly: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    const statuses: number[] = [];
    const finish = (closedEarly: boolean) => {
      socket.destroy();
      resolve({ statuses, closedEarly });
    };
    socket.on("connect", () =>
      socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join("")),
    );
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.toString("latin1", 0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? "0");
        if (buf.length < end + 4 + length) return;
        statuses.push(Number(head.slice(9, 12)));
        buf = buf.subarray(end + 4 + length);
        if (statuses.length === paths.length) finish(false);
      }
    });
    socket.on("close", () => finish(statuses.length < paths.length));
    socket.on("error", (err) => (statuses.length > 0 ? finish(true) : reject(err)));
  });
}
