import { readFileSync } from "node:fs";
import {
  freePort,
  freshDatabase,
  freshKeyPrefix,
  testServices,
  waitUntil,
} from "@million-rps/local/testing";
import { cacheKeys, DEFAULT_HOT_PAGES, refreshGeneration } from "@million-rps/shared";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminMetrics, type Fleet, readyLine, runFleet } from "./fleet-process";
import { get, insertTodos, json, metricValue } from "./helpers";

describe("fleet: supervisor and uWS processes", () => {
  let fleet: Fleet;
  let port: number;
  let adminPort: number;
  let db: pg.Pool;
  let redis: Redis;
  let prefix: string;

  beforeAll(async () => {
    const databaseUrl = await freshDatabase();
    db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    await insertTodos(db, 150);
    [port, adminPort] = await Promise.all([freePort(), freePort()]);
    prefix = freshKeyPrefix();
    redis = new Redis(testServices().redisUrl);
    fleet = runFleet({
      HTTP_PORT: String(port),
      ADMIN_PORT: String(adminPort),
      READ_PROCESSES: "2",
      DATABASE_URL: databaseUrl,
      REDIS_URL: testServices().redisUrl,
      CACHE_KEY_PREFIX: prefix,
      SHUTDOWN_GRACE_MS: "2000",
    });
    await waitUntil("the fleet's ready line", () => readyLine(fleet) !== undefined, {
      timeoutMs: 30_000,
    });
  }, 60_000);

  afterAll(async () => {
    if (fleet?.child.exitCode === null) fleet.child.kill("SIGKILL");
    redis?.disconnect();
    await db?.end();
  });

  it("logs one JSON ready line with the port, and serves on it", async () => {
    const ready = readyLine(fleet);
    expect(ready).toMatchObject({ port, processes: 2, admin_port: adminPort });
    expect(ready?.pids).toHaveLength(2);
    expect((await get(port, "/readyz")).status).toBe(200);
    expect((await get(port, "/todos?limit=10")).status).toBe(200);
    const text = await adminMetrics(adminPort);
    expect(metricValue(text, "read_fleet_processes")).toBe(2);
    // /metrics lives on the admin port only.
    expect((await get(port, "/metrics")).status).toBe(404);
  });

  it("runs its processes with V8's initial old space from READ_INITIAL_OLD_SPACE_MB (default 128)", () => {
    for (const pid of readyLine(fleet)?.pids ?? []) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      expect(argv).toContain("--initial-old-space-size=128");
    }
    expect(readyLine(fleet)?.pids).toHaveLength(2);
  });

  it("every uWS process applies a reset and serves the new data", async () => {
    const keys = cacheKeys(prefix);
    for (let i = 0; i < 20; i++) await get(port, "/todos?limit=100"); // warm both processes
    await db.query(
      `INSERT INTO todos (id, title, user_id, created_at, updated_at)
       VALUES (gen_random_uuid(), 'seen by all', 'dave', now(), now())`,
    );
    const { generation } = await refreshGeneration({
      redis,
      db,
      keys,
      hotPages: DEFAULT_HOT_PAGES,
      ttlSec: 60,
    });
    await waitUntil("both processes refreshed what they hold", async () => {
      const text = await adminMetrics(adminPort);
      return ["0", "1"].every(
        (w) =>
          metricValue(text, "read_generation", { process: w }) >= generation &&
          metricValue(text, "read_refreshes_pending", { process: w }) === 0,
      );
    });
    // Counters are summed across the processes (gauges stay per process, as above).
    const served = async () =>
      metricValue(await adminMetrics(adminPort), "read_http_responses_total", {
        route: "todos",
        code: "200",
      });
    const before = await served();
    // Each fresh connection lands on either process (SO_REUSEPORT); both hold the new page.
    for (let i = 0; i < 40; i++) {
      const page = json<{ title: string }[]>(await get(port, "/todos?limit=100"));
      expect(page[0]?.title).toBe("seen by all");
    }
    await waitUntil("the 40 answers counted", async () => (await served()) - before === 40);
    const text = await adminMetrics(adminPort);
    expect(text).not.toMatch(/^read_http_responses_total\{[^}]*process=/m);
    for (const w of ["0", "1"]) {
      // Process metrics, per process: the event-loop lag and heap of each uWS process.
      expect(text).toMatch(new RegExp(`^nodejs_eventloop_lag_seconds\\{process="${w}"\\} `, "m"));
      expect(metricValue(text, "nodejs_heap_size_used_bytes", { process: w })).toBeGreaterThan(0);
    }
    expect(metricValue(text, "process_cpu_seconds_total")).toBeGreaterThan(0);
  });

  it("restarts a uWS process that dies", async () => {
    const victim = readyLine(fleet)?.pids[0] as number;
    process.kill(victim, "SIGKILL");
    await waitUntil("the supervisor to restart the worker", async () => {
      const text = await adminMetrics(adminPort);
      return (
        metricValue(text, "read_fleet_process_restarts_total") === 1 &&
        metricValue(text, "read_fleet_processes") === 2
      );
    });
    const results = await Promise.all(Array.from({ length: 20 }, () => get(port, "/todos")));
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    expect(fleet.lines.some((l) => l.msg === "process died; restarting")).toBe(true);
  });

  it("drains and exits 0 on SIGTERM, taking its processes with it", async () => {
    const pids = readyLine(fleet)?.pids ?? [];
    fleet.child.kill("SIGTERM");
    expect(await fleet.exited).toBe(0);
    expect(fleet.lines.some((l) => l.msg === "read fleet stopped")).toBe(true);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(pids.filter(alive)).toEqual([]);
    await expect(get(port, "/healthz")).rejects.toThrow();
  });
});

describe("fleet: refusing to start", () => {
  it("exits non-zero naming the bad variable", async () => {
    const fleet = runFleet({ READ_PROCESSES: "0", HTTP_PORT: "http" });
    expect(await fleet.exited).toBe(1);
    const err = fleet.stderr.join("");
    expect(err).toContain("READ_PROCESSES");
    expect(err).toContain("HTTP_PORT");
    expect(err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("exits non-zero when uWS fell back to its JavaScript implementation", async () => {
    // The legacy package's own switch forces its fallback; the current build is ruled out.
    const fleet = runFleet({
      UWS_BUILD: "legacy",
      UWS_USE_FALLBACK: "1",
      HTTP_PORT: String(await freePort()),
    });
    expect(await fleet.exited).toBe(1);
    expect(fleet.stderr.join("")).toContain("JavaScript fallback");
  });
});
