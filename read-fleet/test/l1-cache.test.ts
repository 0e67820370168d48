import type { ChangeSet, PageRange, TodoChange } from "@million-rps/shared";
import { describe, expect, it } from "vitest";
import { L1Budget, L1Cache } from "../src/l1-cache";
import { type PageAnswer, PageCache } from "../src/page-cache";
import type { Representation } from "../src/representation";

type Value = { bytes: number; n: number };
const v = (bytes: number, n = 0): Value => ({ bytes, n });

describe("L1Cache", () => {
  it("swaps a successor in place: a holder of the slot sees it, and bytes are counted once", () => {
    const budget = new L1Budget(100, 1000);
    const cache = new L1Cache<Value>(budget);
    const slot = cache.set("a", v(30, 1), 5, 0);
    cache.replace(slot, v(40, 2), 7, 10);
    expect(cache.get("a")).toBe(slot);
    expect(slot.value.n).toBe(2);
    expect([slot.stamp, slot.fetchedAt]).toEqual([7, 10]);
    expect([budget.entries, budget.bytes]).toEqual([1, 40]);
    cache.set("a", v(10, 3), 8, 20); // a second cold fill of the same key: the same slot
    expect(cache.get("a")).toBe(slot);
    expect([budget.entries, budget.bytes]).toEqual([1, 10]);
  });

  it("bounds entries, sparing the recently hit once, and marks what it evicts", () => {
    const budget = new L1Budget(3, 10_000);
    const cache = new L1Cache<Value>(budget);
    const a = cache.set("a", v(1), 1, 0);
    const b = cache.set("b", v(1), 1, 0);
    cache.set("c", v(1), 1, 0);
    cache.get("a"); // recently hit: spared once
    cache.set("d", v(1), 1, 0);
    expect(cache.get("a")).toBe(a);
    expect(cache.get("b")).toBeUndefined();
    expect(b.evicted).toBe(true);
    expect(budget.entries).toBe(3);
  });

  it("bounds bytes", () => {
    const budget = new L1Budget(100, 100);
    const cache = new L1Cache<Value>(budget);
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, v(30), 1, 0);
    expect(budget.bytes).toBeLessThanOrEqual(100);
    expect(cache.size).toBe(3);
    expect(cache.get("k9")).toBeDefined();
  });

  it("two caches sharing a budget bound their sum", () => {
    const budget = new L1Budget(4, 10_000);
    const one = new L1Cache<Value>(budget);
    const two = new L1Cache<Value>(budget);
    for (let i = 0; i < 3; i++) one.set(`a${i}`, v(1), 1, 0);
    for (let i = 0; i < 3; i++) two.set(`b${i}`, v(1), 1, 0);
    expect(one.size + two.size).toBeLessThanOrEqual(6);
    expect(budget.entries).toBe(one.size + two.size);
  });
});

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const at = (micros: number, n = micros) => ({ micros, id: ID(n) });
const rep = { variants: [], bytes: 100 } as unknown as Representation;

/** A page holding todos at `micros` (newest first), covering `range`. */
function answer(key: string, micros: number[], range: PageRange): PageAnswer {
  return {
    query: { limit: 3, cursor: null, key },
    rep,
    etag: key,
    ids: new Set(micros.map((m) => ID(m))),
    range,
    next: null,
    bytes: 100,
  };
}

function changeSet(generation: number, changes: TodoChange[]): ChangeSet {
  return { seq: 1, epoch: "e", generation, reset: false, publishedAt: 0, changes };
}

describe("PageCache.touchedBy", () => {
  // Three pages of a walk over todos at 1..9 (limit 3) and a first page of limit 2.
  const cache = new PageCache(new L1Budget(100, 1_000_000));
  const first = cache.set("3", answer("3", [9, 8, 7], { low: at(7), high: null }), 10, 0);
  const second = cache.set("3:b", answer("3:b", [6, 5, 4], { low: at(4), high: at(7) }), 10, 0);
  const last = cache.set("3:c", answer("3:c", [3, 2, 1], { low: null, high: at(4) }), 10, 0);
  const small = cache.set("2", answer("2", [9, 8], { low: at(8), high: null }), 12, 0);
  const touched = (cs: ChangeSet) => new Set(cache.touchedBy(cs).map((s) => s.key));

  it("a create newer than everything touches only the first pages", () => {
    expect(touched(changeSet(20, [{ id: ID(10), position: at(10) }]))).toEqual(new Set(["3", "2"]));
  });

  it("an update touches the page that shows the todo, and a delete the page it leaves", () => {
    expect(touched(changeSet(20, [{ id: ID(5), position: at(5) }]))).toEqual(new Set(["3:b"]));
    expect(touched(changeSet(20, [{ id: ID(2), position: null }]))).toEqual(new Set(["3:c"]));
  });

  it("a todo moved into a range touches that page, found by position alone", () => {
    // Recreated with an older created_at: it leaves the first page and lands in the second.
    const moved = { id: ID(9), position: { micros: 5.5, id: ID(99) } };
    expect(touched(changeSet(20, [moved]))).toEqual(new Set(["3", "2", "3:b"]));
  });

  it("pages stamped at or above the change's generation already reflect it", () => {
    expect(touched(changeSet(11, [{ id: ID(9), position: at(9) }]))).toEqual(new Set(["3"]));
  });

  it("forgets the ids of a page that left, and learns those of its successor", () => {
    cache.replace(second, answer("3:b", [6, 5, 3], { low: at(3), high: at(7) }), 10, 0);
    expect(touched(changeSet(20, [{ id: ID(4), position: null }]))).toEqual(new Set());
    expect(touched(changeSet(20, [{ id: ID(3), position: null }]))).toEqual(
      new Set(["3:b", "3:c"]),
    );
    expect([first.evicted, last.evicted, small.evicted]).toEqual([false, false, false]);
  });

  it("an evicted page leaves the index with the ids its successors brought", () => {
    const one = new PageCache(new L1Budget(1, 1_000_000));
    const a = one.set("a", answer("a", [2, 1], { low: null, high: null }), 10, 0);
    one.replace(a, answer("a", [3, 2], { low: null, high: null }), 11, 0);
    const deleted = (n: number) =>
      one.touchedBy(changeSet(20, [{ id: ID(n), position: null }])).map((s) => s.key);
    expect([deleted(1), deleted(2), deleted(3)]).toEqual([[], ["a"], ["a"]]);
    one.set("b", answer("b", [7], { low: null, high: null }), 10, 0);
    expect(a.evicted).toBe(true);
    expect([deleted(2), deleted(3), deleted(7)]).toEqual([[], [], ["b"]]);
  });
});
