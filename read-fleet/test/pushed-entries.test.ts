import { encodeHotEntries } from "@million-rps/shared";
import { describe, expect, it } from "vitest";
import { PushedEntries } from "../src/pushed-entries";

const entry = (stamp: number, body = "b") => Buffer.from(`${stamp}\n{}\n${body}`);
const push = (...entries: [string, Buffer][]) =>
  encodeHotEntries(entries.map(([key, value]) => ({ key, value })));

describe("pushed hot pages", () => {
  it("serve a refresh that needs no newer stamp than theirs, once", () => {
    const p = new PushedEntries();
    expect(p.offer(push(["a", entry(5)]))).toBe(true);
    expect(p.take("a", 6)).toBeNull(); // older than asked: read L2
    expect(p.take("b", 5)).toBeNull();
    expect(p.take("a", 5)?.toString()).toBe("5\n{}\nb");
    expect(p.take("a", 5)).toBeNull(); // taken
  });

  it("keep the newest push of a key, whatever order pushes arrive in", () => {
    const p = new PushedEntries();
    p.offer(push(["a", entry(7, "seven")]));
    p.offer(push(["a", entry(6, "six")])); // another worker's, older
    expect(p.take("a", 6)?.toString()).toBe("7\n{}\nseven");
    p.offer(push(["a", entry(8, "eight")], ["b", entry(8)]));
    expect(p.take("a", 8)?.toString()).toBe("8\n{}\neight");
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
