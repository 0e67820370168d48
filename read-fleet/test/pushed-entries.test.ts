import { type CacheEntry, encodeEntry, encodeHotEntries } from "@million-rps/shared";
import { describe, expect, it } from "vitest";
import { MAX_HELD_BYTES, MAX_HELD_ENTRIES, PushedEntries } from "../src/pushed-entries";

/** An L2 entry stamped `stamp` whose body is `body`. */
const entry = (stamp: number, body = "b") =>
  encodeEntry({
    stamp,
    subject: { kind: "item", id: "x", found: true },
    etag: "t",
    identity: Buffer.from(body),
    gzip: null,
    brotli: null,
  });
const body = (e: CacheEntry | null) => e?.identity.toString();
const push = (...entries: [string, Buffer][]) =>
  encodeHotEntries(entries.map(([key, value]) => ({ key, value })));

describe("pushed entries", () => {
  it("serve a refresh that needs no newer stamp than theirs, once", () => {
    const p = new PushedEntries();
    expect(p.offer(push(["a", entry(5)]))).toBe(true);
    expect(p.take("a", 6)).toBeNull(); // older than asked: read L2
    expect(p.take("b", 5)).toBeNull();
    expect(body(p.take("a", 5))).toBe("b");
    expect(p.take("a", 5)).toBeNull(); // taken
  });

  it("keep the newest push of a key, whatever order pushes arrive in", () => {
    const p = new PushedEntries();
    p.offer(push(["a", entry(7, "seven")]));
    p.offer(push(["a", entry(6, "six")])); // another worker's, older
    expect(body(p.take("a", 6))).toBe("seven");
    p.offer(push(["a", entry(8, "eight")], ["b", entry(8)]));
    expect(body(p.take("a", 8))).toBe("eight");
  });

  it("ignore what they cannot read, and hold a bounded number of entries", () => {
    const p = new PushedEntries();
    expect(p.offer(Buffer.from([0, 9]))).toBe(false);
    p.offer(push(["nostamp", Buffer.from("body")]));
    expect(p.size).toBe(0);
    const n = MAX_HELD_ENTRIES + 100;
    for (let i = 0; i < n; i++) p.offer(push([`k${i}`, entry(i)]));
    expect(p.size).toBe(MAX_HELD_ENTRIES);
    expect(p.take("k0", 0)).toBeNull(); // the oldest pushes went first
    expect(p.take(`k${n - 1}`, n - 1)).not.toBeNull();
    p.clear();
    expect(p.size).toBe(0);
  });

  it("hold a bounded number of bytes, and count what is taken or replaced as gone", () => {
    const p = new PushedEntries();
    const big = "x".repeat(60 * 1024);
    // One publication's push of many todos keeps every one of them.
    p.offer(push(...Array.from({ length: 500 }, (_, i): [string, Buffer] => [`t${i}`, entry(1)])));
    expect(p.size).toBe(500);
    for (let i = 0; i < 500; i++) expect(p.take(`t${i}`, 1)).not.toBeNull();
    const fit = Math.floor(MAX_HELD_BYTES / (60 * 1024 + 16));
    for (let round = 0; round < 3; round++) {
      // The same keys again, newer: replaced, not added up.
      for (let i = 0; i < fit; i++) p.offer(push([`p${i}`, entry(2 + round, big)]));
    }
    expect(p.size).toBe(fit);
    p.offer(push(["last", entry(9, big)]));
    expect(p.size).toBe(fit); // the oldest went to make room
    expect(p.take("p0", 0)).toBeNull();
    expect(p.take("last", 9)).not.toBeNull();
  });
});
