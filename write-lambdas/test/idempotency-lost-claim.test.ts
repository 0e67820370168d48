import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { redisIdempotencyStore } from "../src/idempotency/idempotency-store";
import type { LazyRedis } from "../src/idempotency/redis-connection";

/**
 * A Redis that holds one key and runs the store's three scripts by what they do
 * (claim: SET NX or the current value; release: delete if ours). The first call
 * "times out" after landing, as a stalled Redis does.
 */
function stallingRedis() {
  const data = new Map<string, string>();
  let calls = 0;
  const client = {
    async eval(script: string, _n: number, key: string, value: string) {
      calls++;
      if (script.includes("'NX'") || script.includes("NX")) {
        const current = data.get(key) ?? null;
        if (current === null) data.set(key, value);
        if (calls === 1) throw new Error("Command timed out"); // landed, answer lost
        return current;
      }
      if (script.includes("DEL")) {
        if (data.get(key) === value) data.delete(key);
        return 1;
      }
      return 1;
    },
  };
  const redis: LazyRedis = { get: async () => client as unknown as Redis, close: async () => {} };
  return { redis, data };
}

// Regression (the soak): a claim whose Redis answer timed out had still landed, so the
// key stayed "in flight" for its whole TTL and the client's retries got 409 although
// nothing was being accepted.
describe("redisIdempotencyStore", () => {
  it("releases a claim whose answer was lost, so the retry is not told it is in flight", async () => {
    const { redis, data } = stallingRedis();
    const store = redisIdempotencyStore({
      redis,
      inFlightMs: 9_000,
      ttlSec: 60,
      releaseRetryMs: 5,
    });
    await expect(store.claim("k", "fp")).rejects.toMatchObject({ dependency: "redis" });
    expect(data.has("k")).toBe(true); // it landed
    await sleep(50);
    expect(data.has("k")).toBe(false); // and was released
    expect(await store.claim("k", "fp")).toMatchObject({ kind: "claimed" });
  });
});
