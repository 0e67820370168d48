import { describe, expect, it } from "vitest";
import type { AppliedChange } from "../src/apply";
import { streamIdAtOrAfter } from "../src/change-relay";
import { decodeHandedChanges, encodeHandedChanges, mergeChanges } from "../src/handed-changes";

const at = (id: string, micros: number) => ({ micros, id });

describe("handed changes", () => {
  it("come back from a stream entry as they were handed off", () => {
    const changes: AppliedChange[] = [
      { id: "a", position: at("a", 1_733_000_000_000_001), existed: false, was: null },
      { id: "b", position: null, existed: true, was: at("b", 1_733_000_000_000_002) },
      { id: "c", position: at("c", 7), existed: true, was: at("c", 7) },
    ];
    const fields = ["c", encodeHandedChanges(changes), "r", "1"];
    expect(decodeHandedChanges(fields)).toEqual({ changes, reset: true });
    expect(decodeHandedChanges(["r", "0", "c", "[]"])).toEqual({ changes: [], reset: false });
  });

  it("are refused, not guessed, when an entry is not one this code wrote", () => {
    for (const fields of [
      [],
      ["c", "[]"],
      ["c", "[]", "r", "yes"],
      ["c", "{", "r", "0"],
      ["c", "{}", "r", "0"],
      ["c", '[["a", 1, 0]]', "r", "0"],
      ["c", '[["a", 1.5, 0, null]]', "r", "0"],
      ["c", '[["a", 1, 2, null]]', "r", "0"],
      ["c", "[[1, 1, 0, null]]", "r", "0"],
    ]) {
      expect(decodeHandedChanges(fields), JSON.stringify(fields)).toBeNull();
    }
  });

  it("merge by todo, the last position winning, keeping whether it existed and where it was", () => {
    const pending = new Map<string, AppliedChange>();
    mergeChanges(pending, [
      { id: "new", position: at("new", 5), existed: false, was: null },
      { id: "old", position: at("old", 3), existed: true, was: at("old", 3) },
    ]);
    mergeChanges(pending, [
      { id: "new", position: at("new", 5), existed: true, was: at("new", 5) },
      { id: "old", position: null, existed: true, was: null },
    ]);
    // Created then updated: still new to readers; updated then deleted: where it was.
    expect(pending.get("new")).toEqual({
      id: "new",
      position: at("new", 5),
      existed: false,
      was: at("new", 5),
    });
    expect(pending.get("old")).toEqual({
      id: "old",
      position: null,
      existed: true,
      was: at("old", 3),
    });
  });

  it("stream ids compare by time, then sequence", () => {
    expect(streamIdAtOrAfter("5-0", "5-0")).toBe(true);
    expect(streamIdAtOrAfter("5-1", "5-0")).toBe(true);
    expect(streamIdAtOrAfter("10-0", "9-99")).toBe(true);
    expect(streamIdAtOrAfter("9-99", "10-0")).toBe(false);
    expect(streamIdAtOrAfter("5-0", "5-1")).toBe(false);
  });
});
