import { parseHotPages } from "@million-rps/shared";
import { ConfigError } from "@million-rps/shared/config";
import { describe, expect, it } from "vitest";
import { backoffMs } from "../src/backoff";
import { parseWorkerConfig } from "../src/config";

function problems(env: Record<string, string>): string[] {
  try {
    parseWorkerConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.variable}: ${p.message}`);
    throw err;
  }
  return [];
}

describe("worker config", () => {
  it("has defaults for a 2-vCPU task and the local stack", () => {
    const c = parseWorkerConfig({});
    expect(c).toMatchObject({
      topic: "todo-commands",
      dlqTopic: "todo-commands.dlq",
      groupId: "todo-workers",
      concurrency: 2,
      batchSize: 2000,
      dbPoolSize: 10,
      hotPages: [{ limit: 100, pages: 1 }],
      cacheKeyPrefix: "todos",
      adminPort: 9465,
    });
    expect(c.kafka.brokers).toEqual(["127.0.0.1:59092"]);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("names each bad variable", () => {
    expect(
      problems({
        WORKER_BATCH_SIZE: "0",
        WORKER_CONCURRENCY: "x",
        HOT_PAGES: "100,abc",
        DATABASE_URL: "mysql://x",
      }),
    ).toEqual([
      "DATABASE_URL: must use postgres: or postgresql: (got mysql:)",
      'WORKER_CONCURRENCY: must be an integer from 1 to 256 (got "x")',
      'WORKER_BATCH_SIZE: must be an integer from 1 to 50000 (got "0")',
      'HOT_PAGES: "abc": limit must be an integer from 1 to 1000',
    ]);
  });

  it("needs a connection per partition in flight plus one for cache refills", () => {
    expect(problems({ WORKER_CONCURRENCY: "8", DB_POOL_SIZE: "8" })).toEqual([
      "DB_POOL_SIZE: must be at least WORKER_CONCURRENCY + 1 = 9 (got 8)",
    ]);
    expect(problems({ WORKER_CONCURRENCY: "8", DB_POOL_SIZE: "9" })).toEqual([]);
  });

  it("refuses MSK IAM auth without a region", () => {
    expect(problems({ KAFKA_AUTH: "aws-iam" })).toEqual([
      "KAFKA_BROKERS: KAFKA_AUTH=aws-iam needs AWS_REGION",
    ]);
  });

  it("reads hot pages as limits with an optional depth", () => {
    expect(parseHotPages("100, 1000:3,100")).toEqual([
      { limit: 100, pages: 1 },
      { limit: 1000, pages: 3 },
    ]);
    for (const bad of ["", "0", "1001", "100:0", "100:x", "1e2", "100:11"]) {
      expect(() => parseHotPages(bad), bad).toThrow();
    }
  });
});

describe("backoffMs", () => {
  it("grows from the base and never exceeds the cap", () => {
    expect(backoffMs(0, 100, 5000, () => 0)).toBe(50);
    expect(backoffMs(3, 100, 5000, () => 1)).toBe(800);
    expect(backoffMs(50, 100, 5000, () => 1)).toBe(5000);
  });
});
