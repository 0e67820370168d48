import { describe, expect, it } from "vitest";
import { entryStamp } from "../src/cache-entry";
import {
  decodeHotEntries,
  encodeHotEntries,
  entriesToPush,
  HOT_ENTRY_PUSH_MAX_BYTES,
} from "../src/hot-entries";

describe("hot entries pushed with a publication", () => {
  it("round-trip keys and arbitrary bytes, in order", () => {
    const entries = [
      { key: "todos:page:100:-", value: Buffer.from("42\n{}\nbody") },
      { key: "tödos:page:7:AAZh", value: Buffer.from([0, 10, 255, 13]) },
      { key: "empty", value: Buffer.alloc(0) },
    ];
    expect(decodeHotEntries(encodeHotEntries(entries))).toEqual(entries);
    expect(decodeHotEntries(encodeHotEntries([]))).toEqual([]);
  });

  it("a truncated message or one of another layout is null, never a wrong entry", () => {
    const whole = encodeHotEntries([{ key: "k", value: Buffer.from("12\nabc") }]);
    for (let cut = 1; cut < whole.length; cut++) {
      expect(decodeHotEntries(whole.subarray(0, cut))).toBeNull();
    }
    expect(decodeHotEntries(Buffer.from('{"seq":1}'))).toBeNull();
  });

  it("read the stamp an entry starts with, and nothing else as one", () => {
    expect(entryStamp(Buffer.from("1234\n{}\n"))).toBe(1234);
    expect(entryStamp(Buffer.from("0\n"))).toBe(0);
    for (const bad of ["", "\n", "x\n", "-1\n", "1.5\n", "12", `${"9".repeat(20)}\n`]) {
      expect(entryStamp(Buffer.from(bad))).toBeNull();
    }
  });

  it("push every hot page, then the todos and the cursor pages in order while they fit the budget", () => {
    const entry = (key: string, bytes: number) => ({ key, value: Buffer.alloc(bytes, 1) });
    const stored = [
      entry("hot", 30_000),
      entry("c1", 30_000),
      entry("c2", 40_000),
      entry("t1", 500),
      entry("c3", 20_000),
      entry("huge", HOT_ENTRY_PUSH_MAX_BYTES + 1),
      entry("t2", 600),
      entry("other", 500),
    ];
    const o = {
      hot: new Set(["hot"]),
      todos: new Set(["t1", "t2"]),
      cursor: new Set(["c1", "c2", "c3", "huge"]),
    };
    const pick = (budget: number) => {
      const push = entriesToPush(stored, { ...o, budget });
      return {
        keys: push.entries.map((e) => e.key),
        cursorPages: push.cursorPages,
        todos: push.todos,
      };
    };
    // The todos first; then c2 does not fit what c1 left, c3 does. Nothing else is pushed,
    // nor anything past the size cap.
    expect(pick(56_100)).toEqual({
      keys: ["hot", "t1", "t2", "c1", "c3"],
      cursorPages: 2,
      todos: 2,
    });
    expect(pick(0)).toEqual({ keys: ["hot"], cursorPages: 0, todos: 0 });
    expect(pick(1_000)).toEqual({ keys: ["hot", "t1"], cursorPages: 0, todos: 1 });
    expect(pick(10 * HOT_ENTRY_PUSH_MAX_BYTES)).toEqual({
      keys: ["hot", "t1", "t2", "c1", "c2", "c3"],
      cursorPages: 3,
      todos: 2,
    });
  });
});
