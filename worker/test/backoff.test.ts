import { describe, expect, it } from "vitest";
import { backoffMs, pause } from "../src/backoff";

describe("pause", () => {
  it("waits the time it is given", async () => {
    const start = performance.now();
    await pause(30);
    expect(performance.now() - start).toBeGreaterThanOrEqual(25);
  });

  it("ends early, without throwing, when its signal aborts", async () => {
    const stopping = new AbortController();
    const start = performance.now();
    const waiting = pause(10_000, stopping.signal);
    stopping.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(performance.now() - start).toBeLessThan(1_000);
  });

  it("does not wait at all once its signal has aborted", async () => {
    const start = performance.now();
    await pause(10_000, AbortSignal.abort());
    expect(performance.now() - start).toBeLessThan(1_000);
  });
});

describe("backoffMs", () => {
  it("doubles from the base up to the cap, half of it fixed", () => {
    const least = (attempt: number) => backoffMs(attempt, 100, 5_000, () => 0);
    const most = (attempt: number) => backoffMs(attempt, 100, 5_000, () => 1);
    expect([0, 1, 2].map(least)).toEqual([50, 100, 200]);
    expect([0, 1, 2].map(most)).toEqual([100, 200, 400]);
    expect(most(30)).toBe(5_000);
    expect(least(30)).toBe(2_500);
  });
});
