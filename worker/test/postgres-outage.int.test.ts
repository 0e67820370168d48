import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
  dataDir,
  freePort,
  freshKeyPrefix,
  freshTopics,
  postgresInstance,
  uniqueName,
  waitUntil,
} from "@million-rps/local/testing";
import { sampleSum } from "@million-rps/shared/metrics";
import { migrate } from "@million-rps/shared/migrations";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { generateWorkload } from "../bench/workload";
import { parseWorkerConfig } from "../src/config";
import { CommandStreamModel } from "../src/model";
import { startWorker, type WorkerHandle } from "../src/worker";
import { workerEnv } from "./support/env";
import { countCommands, expectedTodos, produce, readResults, readTodos } from "./support/stream";

/** Commands the worker got through Postgres (any outcome). */
async function handled(worker: WorkerHandle): Promise<number> {
  let n = 0;
  for (const outcome of ["applied", "rejected_forbidden", "rejected_not_found", "duplicate"]) {
    n += await sampleSum(worker.metrics.commands, { outcome });
  }
  return n;
}

// A Postgres of this test's own: stopping the shared one would break other test files.
const dir = dataDir(uniqueName("test-pg-outage-"));
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe("Postgres stopped mid-stream", () => {
  it("holds the partitions, commits nothing, and loses nothing once it is back", async () => {
    const postgres = postgresInstance(dir, await freePort());
    await postgres.start();
    cleanup.push(() => postgres.stop("immediate"));
    const pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
    cleanup.push(() => pool.end());
    pool.on("error", () => {}); // its idle connections die with the server
    await migrate(pool);

    const { topic, dlqTopic } = await freshTopics(3);
    const stream = generateWorkload({ count: 8_000, seed: 99 });
    const model = new CommandStreamModel();
    model.apply(stream);
    await produce(topic, stream.slice(0, 4_000));
    const config = parseWorkerConfig(
      workerEnv({
        databaseUrl: postgres.url,
        topic,
        dlqTopic,
        keyPrefix: freshKeyPrefix(),
        extra: { WORKER_BATCH_SIZE: "100", LOG_LEVEL: "error" },
      }),
    );
    const worker: WorkerHandle = await startWorker(config);
    cleanup.push(() => worker.stop());
    await waitUntil("1,000 commands recorded", async () => (await countCommands(pool)) >= 1_000, {
      timeoutMs: 60_000,
      intervalMs: 10,
    });

    await postgres.stop("immediate"); // a crash, not a polite shutdown
    const handledAtStop = await handled(worker);
    await produce(topic, stream.slice(4_000)); // writes keep arriving; Kafka holds them
    await waitUntil(
      "the worker to retry against the dead database",
      async () => (await sampleSum(worker.metrics.retries, { error: "DependencyError" })) > 0,
    );
    await sleep(3_000); // several backoff rounds with the database down
    expect(await handled(worker)).toBe(handledAtStop); // nothing applied, so nothing committed
    expect(handledAtStop).toBeLessThan(stream.length);

    await postgres.start();
    await waitUntil(
      "every command recorded",
      async () => (await countCommands(pool)) === model.results.size,
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    expect(await readResults(pool)).toEqual(model.results);
    expect(await readTodos(pool)).toEqual(expectedTodos(model.todos));
  }, 240_000);
});
