import { describe, expect, it } from "vitest";
import { GenerationCache, L1Budget } from "../src/l1-cache";

interface Value {
  bytes: number;
  name: string;
}
const v = (bytes: number, name = ""): Value => ({ bytes, name });

describe("GenerationCache", () => {
  it("serves the current generation and keeps the previous one only for stale-if-error", () => {
    const cache = new GenerationCache<Value>(new L1Budget(10, 1000), 1);
    cache.set("a", v(10, "a1"), 100);
    expect(cache.get("a")?.value.name).toBe("a1");
    expect(cache.switchTo(2)).toBe(true);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.getStale("a")?.value.name).toBe("a1");
    cache.set("a", v(10, "a2"), 100);
    expect(cache.getStale("a")?.value.name).toBe("a2");
    expect(cache.switchTo(3)).toBe(true);
    expect(cache.switchTo(3)).toBe(false);
    expect(cache.switchTo(4)).toBe(true);
    expect(cache.getStale("a")).toBeUndefined();
  });

  it("accepts a lower generation (Redis was reset) as a new one", () => {
    const cache = new GenerationCache(new L1Budget(10, 1000), 57);
    cache.set("a", v(10), 100);
    expect(cache.switchTo(1)).toBe(true);
    expect(cache.generation).toBe(1);
    expect(cache.get("a")).toBeUndefined();
  });

  it("drops a fill that finishes after the generation moved on, or was reset", () => {
    const cache = new GenerationCache<Value>(new L1Budget(10, 1000), 1);
    const started = cache.epoch;
    cache.switchTo(2);
    expect(cache.set("a", v(10), 100, started)).toBe(false);
    expect(cache.get("a")).toBeUndefined();
    const again = cache.epoch;
    cache.reset(2); // same number, new data (Redis restarted empty)
    expect(cache.generation).toBe(2);
    expect(cache.set("a", v(10), 100, again)).toBe(false);
    expect(cache.set("a", v(10), 100, cache.epoch)).toBe(true);
  });

  it("bounds entries, evicting the previous generation first, then the least recently hit", () => {
    const budget = new L1Budget(3, 10_000);
    const cache = new GenerationCache(budget, 1);
    cache.set("old", v(1), 100);
    cache.switchTo(2);
    cache.set("a", v(1), 100);
    cache.set("b", v(1), 100);
    cache.set("c", v(1), 100);
    expect(cache.getStale("old")).toBeUndefined();
    cache.get("a"); // recently hit: spared once
    cache.set("d", v(1), 100);
    expect(cache.get("a")).toBeDefined();
    expect(cache.get("b")).toBeUndefined();
    expect(budget.entries).toBe(3);
  });

  it("bounds bytes", () => {
    const budget = new L1Budget(100, 100);
    const cache = new GenerationCache(budget, 1);
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, v(30), 100);
    expect(budget.bytes).toBeLessThanOrEqual(100);
    expect(cache.size).toBe(3);
    expect(cache.get("k9")).toBeDefined();
  });

  it("replacing a key does not double count", () => {
    const budget = new L1Budget(100, 1000);
    const cache = new GenerationCache(budget, 1);
    cache.set("a", v(30), 100);
    cache.set("a", v(40), 100);
    expect(budget.entries).toBe(1);
    expect(budget.bytes).toBe(40);
  });
});
