import { type CacheEntry, encodeEntry, encodeHotEntries } from "@million-rps/shared";
import { describe, expect, it } from "vitest";
import { PushedEntries } from "../src/pushed-entries";

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

describe("pushed hot pages", () => {
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

  it("ignore what they cannot read, and hold a bounded number of pages", () => {
    const p = new PushedEntries();
    expect(p.offer(Buffer.from([0, 9]))).toBe(false);
    p.offer(push(["nostamp", Buffer.from("body")]));
    expect(p.size).toBe(0);
    for (let i = 0; i < 200; i++) p.offer(push([`k${i}`, entry(i)]));
    expect(p.size).toBe(64);
    expect(p.take("k0", 0)).toBeNull(); // the oldest pushes went first
    expect(p.take("k199", 199)).not.toBeNull();
    p.clear();
    expect(p.size).toBe(0);
  });
});
