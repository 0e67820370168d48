import { freshKeyPrefix, testServices, waitUntil } from "@million-rps/local/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheKeys } from "../src/cache-keys";
import { allocateGeneration, publishGeneration, readGeneration } from "../src/generation";

let redis: Redis;
let sub: Redis;

beforeAll(() => {
  redis = new Redis(testServices().redisUrl);
  sub = new Redis(testServices().redisUrl);
});
afterAll(() => {
  redis.disconnect();
  sub.disconnect();
});

describe("generations in real Redis", () => {
  it("allocates increasing numbers and publishes only forward", async () => {
    const keys = cacheKeys(freshKeyPrefix());
    const heard: string[] = [];
    await sub.subscribe(keys.invalidationChannel);
    sub.on("message", (channel, message) => {
      if (channel === keys.invalidationChannel) heard.push(message);
    });
    expect(await readGeneration(redis, keys)).toBe(0);
    const a = await allocateGeneration(redis, keys);
    const b = await allocateGeneration(redis, keys);
    expect(b).toBeGreaterThan(a);
    expect(await publishGeneration(redis, keys, b)).toBe(true);
    expect(await publishGeneration(redis, keys, a)).toBe(false); // a slow, older refill cannot go backwards
    expect(await readGeneration(redis, keys)).toBe(b);
    await waitUntil("the invalidation message", () => heard.length === 1);
    expect(heard).toEqual([String(b)]);
  });

  it("allocates above the published generation when the counter was lost", async () => {
    const keys = cacheKeys(freshKeyPrefix());
    await redis.set(keys.generation, "41");
    expect(await allocateGeneration(redis, keys)).toBe(42);
  });
});
