import { encodeCursor, HttpError } from "@million-rps/shared";
import { describe, expect, it } from "vitest";
import { nextLink, parsePageQuery } from "../src/page-query";

const cursor = encodeCursor({
  createdAtMicros: 1_767_225_600_000_000n,
  id: "0b5b3a3e-2d3c-4e0f-8a1b-2c3d4e5f6a7b",
});

describe("parsePageQuery", () => {
  it.each([
    ["", { limit: 100, cursor: null }],
    ["limit=1", { limit: 1, cursor: null }],
    ["limit=1000", { limit: 1000, cursor: null }],
    ["limit=010", { limit: 10, cursor: null }],
    [`limit=5&cursor=${cursor}`, { limit: 5, cursor }],
    [`cursor=${cursor}`, { limit: 100, cursor }],
    ["limit=7&utm=x&_=123", { limit: 7, cursor: null }],
    ["&&limit=3&", { limit: 3, cursor: null }],
    ["limit=%33", { limit: 3, cursor: null }],
  ])("%j", (raw, expected) => {
    expect(parsePageQuery(raw)).toMatchObject(expected);
  });

  // Regression (issue 13): L1 was keyed by the raw query string, so `?limit=100&_=<n>`
  // made a new entry (a fill, gzip and brotli) per request until L1 hit its bound.
  it("gives every spelling of one page the same key, and different pages different keys", () => {
    const spellings = ["", "limit=100", "_=1&limit=100", "limit=100&_=2", "limit=%31%30%30&x"];
    expect(new Set(spellings.map((q) => parsePageQuery(q).key))).toEqual(new Set(["100"]));
    const a = parsePageQuery(`limit=5&cursor=${cursor}`).key;
    expect(parsePageQuery(`cursor=${cursor}&zz=1&limit=5`).key).toBe(a);
    expect(parsePageQuery(`limit=6&cursor=${cursor}`).key).not.toBe(a);
    expect(parsePageQuery("limit=5").key).not.toBe(a);
  });

  it.each([
    "limit=abc",
    "limit=-1",
    "limit=0",
    "limit=1001",
    "limit=1e3",
    "limit=10abc",
    "limit=1&limit=2",
    "limit=",
    "limit",
    "limit=+5",
    "limit=5.0",
    "limit=%",
    "limit=%E0%A4%A",
    "cursor=",
    "cursor=abc",
    `cursor=${cursor.slice(0, -1)}`,
    `cursor=${cursor}&cursor=${cursor}`,
    `cursor=${cursor}x`,
    `limit=5&${"x=1&".repeat(600)}`,
  ])("400 for %j", (raw) => {
    try {
      parsePageQuery(raw);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).status).toBe(400);
    }
  });

  it("builds an RFC 8288 next link", () => {
    expect(nextLink(10, cursor)).toBe(`</todos?limit=10&cursor=${cursor}>; rel="next"`);
  });
});
