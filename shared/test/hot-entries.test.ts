import { describe, expect, it } from "vitest";
import { entryStamp } from "../src/cache-entry";
import { decodeHotEntries, encodeHotEntries } from "../src/hot-entries";

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
});
