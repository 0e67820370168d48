import {
  freshDatabase,
  freshKeyPrefix,
  freshTopics,
  testServices,
  waitUntil,
} from "@million-rps/local/testing";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { generateWorkload } from "../bench/workload";
import { CommandStreamModel } from "../src/model";
import { workerEnv } from "./support/env";
import { countCommands, expectedTodos, produce, readResults, readTodos } from "./support/stream";
import { startWorkerProcess } from "./support/worker-process";

const pools: pg.Pool[] = [];
afterAll(async () => {
  for (const p of pools) await p.end();
});

async function setUp(count: number, options: { duplicateShare?: number } = {}) {
  const databaseUrl = await freshDatabase();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pools.push(pool);
  const { topic, dlqTopic } = await freshTopics(3);
  const stream = generateWorkload({ count, seed: count, ...options });
  const model = new CommandStreamModel();
  model.apply(stream);
  await produce(topic, stream);
  // Small transactions, so the stream takes long enough to be interrupted.
  const env = workerEnv({
    databaseUrl,
    topic,
    dlqTopic,
    keyPrefix: freshKeyPrefix(),
    extra: { WORKER_BATCH_SIZE: "150" },
  });
  return { pool, model, env, topic, stream };
}

describe("worker process", () => {
  it("killed with SIGKILL in the middle of 20,000 commands, then restarted, ends with exactly the modelled table", async () => {
    const { pool, model, env } = await setUp(20_000);
    const first = await startWorkerProcess(env);
    await waitUntil("4,000 commands recorded", async () => (await countCommands(pool)) >= 4_000, {
      timeoutMs: 90_000,
      intervalMs: 20,
    });
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    const atKill = await countCommands(pool);
    expect(atKill).toBeLessThan(model.results.size); // the kill really landed mid-stream

    const second = await startWorkerProcess(env);
    await waitUntil(
      "every command recorded",
      async () => (await countCommands(pool)) === model.results.size,
      { timeoutMs: 150_000, intervalMs: 200 },
    );
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);

    // No lost and no doubled command: every status, every row, every version as modelled.
    expect(await readResults(pool)).toEqual(model.results);
    expect(await readTodos(pool)).toEqual(expectedTodos(model.todos));
    const reasons = new Set([...model.results.values()].map((o) => o.reason ?? o.status));
    expect(reasons).toEqual(new Set(["applied", "forbidden", "not_found"]));
  }, 300_000);

  it("on SIGTERM finishes its slice, commits exactly what it applied, leaves the group, exits 0", async () => {
    const { pool, env } = await setUp(6_000, { duplicateShare: 0 });
    const worker = await startWorkerProcess(env);
    await waitUntil("1,000 commands recorded", async () => (await countCommands(pool)) >= 1_000, {
      timeoutMs: 90_000,
      intervalMs: 20,
    });
    worker.child.kill("SIGTERM");
    expect((await worker.exited).code).toBe(0);
    expect(worker.logs.map((l) => l.msg)).toContain("stopped");
    const recorded = await countCommands(pool);
    expect(recorded).toBeLessThan(6_000);

    const admin = new Kafka({
      brokers: testServices().kafkaBrokers,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({
        groupId: env.KAFKA_GROUP_ID ?? "",
        topics: [env.KAFKA_TODO_TOPIC ?? ""],
      });
      // One record per command in this stream: committed offsets add up to the commands recorded.
      const committed = (offsets?.partitions ?? []).reduce(
        (sum, p) => sum + Math.max(0, Number(p.offset)),
        0,
      );
      expect(committed).toBe(recorded);
      const { groups } = await admin.describeGroups([env.KAFKA_GROUP_ID ?? ""]);
      expect(groups[0]?.members).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  }, 180_000);

  it("exits non-zero naming the bad variable", async () => {
    const { env } = await setUp(1);
    const { spawnWorker } = await import("./support/worker-process");
    const worker = spawnWorker({ ...env, WORKER_CONCURRENCY: "0" });
    const { code } = await worker.exited;
    expect(code).not.toBe(0);
    expect(worker.output()).toContain("WORKER_CONCURRENCY: must be an integer from 1 to 256");
  }, 60_000);
});
