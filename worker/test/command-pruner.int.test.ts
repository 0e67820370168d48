import { freshDatabase } from "@million-rps/local/testing";
import { sampleSum } from "@million-rps/shared/metrics";
import { createLogger } from "@million-rps/shared/pino-logger";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandPruner } from "../src/command-pruner";
import { createWorkerMetrics } from "../src/metrics";

let pool: pg.Pool;
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await freshDatabase(), max: 2 });
});
afterAll(async () => {
  await pool.end();
});

async function record(count: number, hoursAgo: number): Promise<void> {
  await pool.query(
    `INSERT INTO commands (command_id, todo_id, actor, type, status, reason, issued_at, recorded_at)
     SELECT gen_random_uuid(), gen_random_uuid(), 'u', 'create', 'applied', NULL, now(),
            now() - $2::int * interval '1 hour'
     FROM generate_series(1, $1::int)`,
    [count, hoursAgo],
  );
}

describe("command record retention", () => {
  it("deletes records past the window in small batches and keeps the rest", async () => {
    await record(25, 200);
    await record(7, 100);
    const metrics = createWorkerMetrics();
    const pruner = new CommandPruner({
      pool,
      retentionHours: 192,
      batch: 10,
      intervalMs: 60_000,
      metrics,
      log: createLogger("test", { level: "error" }),
    });
    expect(await pruner.pruneOnce()).toBe(25);
    expect(await sampleSum(metrics.commandsPruned)).toBe(25);
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM commands");
    expect(rows[0]?.n).toBe(7);
    expect(await pruner.pruneOnce()).toBe(0);
  });
});
