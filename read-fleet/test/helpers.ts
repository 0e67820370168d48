import { request } from "node:http";
import { freePort, freshKeyPrefix, testServices } from "@million-rps/local/testing";
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
    GENERATION_POLL_MS: "200",
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
