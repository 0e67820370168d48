import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
  dataDir,
  freePort,
  freshDatabase,
  redisInstance,
  waitUntil,
} from "@million-rps/local/testing";
import { cacheKeys, DEFAULT_HOT_PAGES, refreshGeneration } from "@million-rps/shared";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import type { ReadServer } from "../src/server";
import { get, insertTodos, json, loadLoop, startTestServer } from "./helpers";

// Stop Redis under read load: reads keep answering 200 (L1, then Postgres behind a
// circuit breaker); Redis back, empty: invalidations flow again without a restart.

const dir = dataDir(`test-${process.pid}`, "read-fleet-redis");
let server: ReadServer | undefined;
let db: pg.Pool | undefined;
let instance: ReturnType<typeof redisInstance> | undefined;

afterAll(async () => {
  await server?.close(0);
  await db?.end();
  await instance?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it("keeps answering 200 while Redis is stopped and restarted, then follows the change feed again", async () => {
  instance = redisInstance(dir, await freePort());
  await instance.start();
  const databaseUrl = await freshDatabase();
  db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  await insertTodos(db, 150);
  server = await startTestServer({
    DATABASE_URL: databaseUrl,
    REDIS_URL: instance.url,
    REDIS_TIMEOUT_MS: "200",
    BREAKER_OPEN_MS: "300",
  });
  const port = server.port;
  const keys = cacheKeys(server.service.deps.config.cacheKeyPrefix);
  const publish = async () => {
    const redis = new Redis(instance?.url as string);
    try {
      return (
        await refreshGeneration({
          redis,
          db: db as pg.Pool,
          keys,
          hotPages: DEFAULT_HOT_PAGES,
          ttlSec: 60,
        })
      ).generation;
    } finally {
      redis.disconnect();
    }
  };
  const first = await publish();
  await waitUntil("the server on the first generation", () =>
    Promise.resolve((server?.service.generation ?? 0) >= first),
  );

  const firstPage = await get(port, "/todos?limit=10");
  const next = /<([^>]+)>/.exec(firstPage.headers.link as string)?.[1] as string;
  const item = json<{ id: string }[]>(firstPage)[0]?.id as string;
  const paths = ["/todos", "/todos?limit=10", next, `/todos/${item}`];
  for (const p of paths) expect((await get(port, p)).status).toBe(200);

  const load = loadLoop(port, paths, 6);
  await sleep(500);
  await instance.stop();
  await sleep(1_500);
  // Pages this process never cached: filled from Postgres while Redis is away.
  for (let limit = 21; limit <= 25; limit++) {
    expect((await get(port, `/todos?limit=${limit}`)).status).toBe(200);
  }
  await sleep(1_000);
  await instance.start(); // empty: no persistence, generation numbering restarts
  await db.query(
    `INSERT INTO todos (id, title, user_id, created_at, updated_at)
     VALUES (gen_random_uuid(), 'after the outage', 'erin', now(), now())`,
  );
  await waitUntil("the server to reconnect to Redis", () =>
    Promise.resolve(server?.service.deps.redis.connected === true),
  );
  await publish();
  await waitUntil(
    "the new todo on the first page (invalidation after Redis came back)",
    async () =>
      json<{ title: string }[]>(await get(port, "/todos"))[0]?.title === "after the outage",
    { timeoutMs: 10_000 },
  );
  await sleep(300);
  const statuses = await load.stop();
  expect(load.total).toBeGreaterThan(100);
  expect(Object.fromEntries(statuses)).toEqual({ 200: load.total });
}, 60_000);
