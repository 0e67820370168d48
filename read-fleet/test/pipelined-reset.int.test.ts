import { connect } from "node:net";
import {
  freePort,
  freshDatabase,
  freshKeyPrefix,
  testServices,
  waitUntil,
} from "@million-rps/local/testing";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { adminMetrics, type Fleet, readyLine, runFleet } from "./fleet-process";
import { get, metricValue } from "./helpers";

// Regression: with the uWS build we ship, pipelined responses larger than the 16 KB
// cork buffer, written with res.cork on a connection the client resets, left the
// response pending and uWS called std::terminate() ("Returning from a request
// handler without responding or attaching an abort handler is forbidden!").
// wrk triggers it when it closes its pipelined connections. See response-writers.ts.

let fleet: Fleet;
let port: number;
let adminPort: number;

beforeAll(async () => {
  const databaseUrl = await freshDatabase();
  const db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  // 100 todos with long descriptions: a first page of about 60 KB, well past the cork buffer.
  await db.query(
    `INSERT INTO todos (id, title, description, user_id, created_at, updated_at)
     SELECT gen_random_uuid(), 'todo ' || i, repeat('x', 500), 'u', ts, ts
     FROM generate_series(1, 100) i, LATERAL (SELECT now() - i * interval '1 s' AS ts) t`,
  );
  await db.end();
  [port, adminPort] = await Promise.all([freePort(), freePort()]);
  fleet = runFleet({
    HTTP_PORT: String(port),
    ADMIN_PORT: String(adminPort),
    READ_PROCESSES: "1",
    DATABASE_URL: databaseUrl,
    REDIS_URL: testServices().redisUrl,
    CACHE_KEY_PREFIX: freshKeyPrefix(),
  });
  await waitUntil("the fleet's ready line", () => readyLine(fleet) !== undefined);
}, 60_000);

afterAll(() => {
  if (fleet?.child.exitCode === null) fleet.child.kill("SIGKILL");
});

/** Pipelines `depth` requests, then resets the connection as soon as the first bytes arrive. */
function burstAndReset(depth: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write("GET /todos HTTP/1.1\r\nHost: x\r\n\r\n".repeat(depth));
    });
    socket.once("data", () => socket.resetAndDestroy());
    socket.on("error", () => {});
    socket.on("close", () => resolve());
  });
}

it("pipelined large responses on reset connections never abort the process", async () => {
  const first = await get(port, "/todos");
  expect(first.status).toBe(200);
  expect(first.body.length).toBeGreaterThan(32 * 1024);
  const worker = readyLine(fleet)?.pids[0];
  for (let i = 0; i < 150; i++) await burstAndReset(64);
  expect((await get(port, "/todos")).status).toBe(200);
  const text = await adminMetrics(adminPort);
  expect(metricValue(text, "read_fleet_process_restarts_total")).toBe(0);
  expect(fleet.lines.some((l) => l.msg === "process died; restarting")).toBe(false);
  expect(fleet.stderr.join("")).not.toContain("forbidden");
  expect(() => process.kill(worker as number, 0)).not.toThrow();
}, 60_000);
