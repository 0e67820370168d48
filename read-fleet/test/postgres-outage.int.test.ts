import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
  dataDir,
  freePort,
  postgresInstance,
  testServices,
  waitUntil,
} from "@million-rps/local/testing";
import { allocateGeneration, cacheKeys, publishChanges } from "@million-rps/shared";
import { migrate } from "@million-rps/shared/migrations";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import type { ReadServer } from "../src/server";
import { get, insertTodos, json, loadLoop, startTestServer } from "./helpers";

// Stop Postgres under read load: cached reads keep answering 200 from L1, and an
// answer a change marked keeps answering from its bytes until Postgres is back.

const dir = dataDir(`test-${process.pid}`, "read-fleet-postgres");
let server: ReadServer | undefined;
let instance: ReturnType<typeof postgresInstance> | undefined;
let redis: Redis | undefined;

afterAll(async () => {
  await server?.close(0);
  redis?.disconnect();
  await instance?.stop("immediate");
  rmSync(dir, { recursive: true, force: true });
});

it("cached reads stay 200 while Postgres is down", async () => {
  instance = postgresInstance(dir, await freePort());
  await instance.start();
  const setup = new pg.Pool({ connectionString: instance.url, max: 1 });
  await migrate(setup);
  await insertTodos(setup, 120);
  await setup.end();

  server = await startTestServer({
    DATABASE_URL: instance.url,
    DB_TIMEOUT_MS: "500",
    BREAKER_OPEN_MS: "300",
  });
  const port = server.port;
  redis = new Redis(testServices().redisUrl);
  const keys = cacheKeys(server.service.deps.config.cacheKeyPrefix);

  const firstPage = await get(port, "/todos?limit=10");
  const item = json<{ id: string }[]>(firstPage)[0]?.id as string;
  const paths = ["/todos", "/todos?limit=10", `/todos/${item}`];
  for (const p of paths) expect((await get(port, p)).status).toBe(200);

  const load = loadLoop(port, paths, 6);
  await sleep(300);
  await instance.stop("immediate");
  await sleep(1_000);

  // A reset while Postgres is down: every held answer is due for a refresh that cannot
  // succeed; each keeps answering from its bytes (stale-if-error) and retries later.
  const generation = await allocateGeneration(redis, keys);
  await publishChanges(redis, keys, { generation, reset: true, changes: [] });
  await waitUntil("the server saw the reset", () =>
    Promise.resolve((server?.service.generation ?? 0) >= generation),
  );
  await sleep(1_000);
  expect(server.service.pages.peek("10")?.stamp).toBeLessThan(generation);
  // Never cached anywhere and Postgres is down: an honest 503, not a hang.
  const cold = await get(port, "/todos?limit=33");
  expect(cold.status).toBe(503);
  expect(cold.headers["retry-after"]).toBe("1");
  const statuses = await load.stop();
  expect(load.total).toBeGreaterThan(50);
  expect(Object.fromEntries(statuses)).toEqual({ 200: load.total });

  await instance.start();
  await waitUntil("reads that need Postgres to work again", async () => {
    return (await get(port, "/todos?limit=33")).status === 200;
  });
  await waitUntil("the held pages refreshed once Postgres is back", () =>
    Promise.resolve((server?.service.pages.peek("10")?.stamp ?? 0) >= generation),
  );
}, 90_000);
