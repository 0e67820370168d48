import { rmSync } from "node:fs";
import {
  dataDir,
  freePort,
  freshDatabase,
  freshKeyPrefix,
  freshTopics,
  redisInstance,
  uniqueName,
  waitUntil,
} from "@million-rps/local/testing";
import { cacheKeys, decodeEntry } from "@million-rps/shared";
import { sampleSum } from "@million-rps/shared/metrics";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { generateWorkload } from "../bench/workload";
import { parseWorkerConfig } from "../src/config";
import { startWorker, type WorkerHandle } from "../src/worker";
import { workerEnv } from "./support/env";
import { countCommands, produce } from "./support/stream";

// A Redis of this test's own: stopping the shared one would break other test files.
const dir = dataDir(uniqueName("test-redis-outage-"));
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe("Redis stopped mid-stream", () => {
  it("keeps applying and committing, then publishes to readers once Redis is back", async () => {
    const redis = redisInstance(dir, await freePort());
    await redis.start();
    cleanup.push(() => redis.stop());
    const databaseUrl = await freshDatabase();
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    cleanup.push(() => pool.end());
    const { topic, dlqTopic } = await freshTopics(3);
    const keyPrefix = freshKeyPrefix();
    const stream = generateWorkload({ count: 3_000, seed: 5, duplicateShare: 0 });
    const config = parseWorkerConfig({
      ...workerEnv({ databaseUrl, topic, dlqTopic, keyPrefix }),
      REDIS_URL: redis.url,
      LOG_LEVEL: "error",
    });
    const worker: WorkerHandle = await startWorker(config);
    cleanup.push(() => worker.stop());

    await produce(topic, stream.slice(0, 1_000));
    await waitUntil("the first commands", async () => (await countCommands(pool)) === 1_000);
    await waitUntil(
      "a publication for them",
      async () => (await sampleSum(worker.metrics.generation)) > 0,
    );
    await redis.stop();
    await produce(topic, stream.slice(1_000));
    // The partitions are not held by the cache: everything is applied while Redis is down.
    await waitUntil("every command", async () => (await countCommands(pool)) === 3_000, {
      timeoutMs: 60_000,
    });
    await waitUntil(
      "a failed publication",
      async () => (await sampleSum(worker.metrics.generationFailures)) > 0,
    );

    await redis.start();
    const client = new Redis(redis.url);
    cleanup.push(async () => client.disconnect());
    const keys = cacheKeys(keyPrefix);
    const newest = await pool.query<{ id: string }>(
      "SELECT id::text FROM todos ORDER BY created_at DESC, id DESC LIMIT 1",
    );
    await waitUntil(
      "the hot page in L2 to show the newest todo",
      async () => {
        const value = await client.getBuffer(keys.page(100, null));
        const entry = value === null ? null : decodeEntry(value);
        return entry?.identity.toString().includes(newest.rows[0]?.id ?? "none") ?? false;
      },
      { timeoutMs: 30_000 },
    );
    // The restarted Redis lost everything; the worker wrote the hot page again from nothing
    // (not only when a new change touched it) and published under a fresh counter. The page
    // is in L2 before that publication ends (then the push, the change set, the metric).
    await waitUntil(
      "the publication under the fresh counter",
      async () =>
        Number(await client.get(keys.generation)) === (await sampleSum(worker.metrics.generation)),
      { timeoutMs: 10_000 },
    );
    expect(Number(await client.get(keys.generation))).toBe(
      await sampleSum(worker.metrics.generation),
    );
    expect(Number(await client.get(keys.changeSeq))).toBeGreaterThan(0);
  }, 120_000);
});
