import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { buildEntry, decodeEntry, encodeEntry, itemSubject } from "../src/cache-entry";
import { decodeChangeSet, encodeChangeBody, pageTouched } from "../src/change-set";
import { decodeCursor, encodeCursor, MAX_CURSOR_MICROS } from "../src/cursor";
import { comparePositions, microsOfTimestamp, type PageRange, rangeHolds } from "../src/position";

const A = "0b6f3f36-2c1d-4c4e-9a57-0d5f5e8b1a01";
const B = "9b6f3f36-2c1d-4c4e-9a57-0d5f5e8b1a01";

describe("cursor bound", () => {
  // Regression (issue 13): a cursor near 2^63 microseconds passed decoding, Postgres raised
  // "interval out of range", the fleet answered 503 and the breaker opened.
  it("refuses a cursor whose instant no todo can have", () => {
    expect(
      decodeCursor(encodeCursor({ createdAtMicros: MAX_CURSOR_MICROS, id: A })),
    ).not.toBeNull();
    expect(
      decodeCursor(encodeCursor({ createdAtMicros: MAX_CURSOR_MICROS + 1n, id: A })),
    ).toBeNull();
    expect(decodeCursor("f_________8AAAAAAAAAAAAAAAAAAAAA")).toBeNull();
  });
});

describe("positions and page ranges", () => {
  it("orders by time, then id", () => {
    expect(comparePositions({ micros: 1, id: B }, { micros: 2, id: A })).toBeLessThan(0);
    expect(comparePositions({ micros: 2, id: A }, { micros: 2, id: B })).toBeLessThan(0);
    expect(comparePositions({ micros: 2, id: A }, { micros: 2, id: A })).toBe(0);
  });

  it("a range holds [low, high): the page's last todo, not its cursor", () => {
    const range: PageRange = { low: { micros: 10, id: A }, high: { micros: 20, id: A } };
    expect(rangeHolds(range, { micros: 10, id: A })).toBe(true);
    expect(rangeHolds(range, { micros: 15, id: B })).toBe(true);
    expect(rangeHolds(range, { micros: 20, id: A })).toBe(false);
    expect(rangeHolds(range, { micros: 9, id: B })).toBe(false);
    // A first page has no high end; a last (short) page no low end.
    expect(rangeHolds({ low: range.low, high: null }, { micros: 1e15, id: A })).toBe(true);
    expect(rangeHolds({ low: null, high: range.high }, { micros: 0, id: A })).toBe(true);
  });

  it("a change touches a page through its ids or through its range", () => {
    const range: PageRange = { low: { micros: 10, id: A }, high: null };
    const ids = new Set([A]);
    expect(pageTouched(ids, range, { id: A, position: null })).toBe(true); // deleted from it
    expect(pageTouched(ids, range, { id: B, position: { micros: 50, id: B } })).toBe(true); // created in it
    expect(pageTouched(ids, range, { id: B, position: { micros: 5, id: B } })).toBe(false); // below it
    expect(pageTouched(ids, range, { id: B, position: null })).toBe(false); // deleted elsewhere
  });

  it.each([
    ["2026-12-01T21:30:22.123Z", Date.UTC(2026, 11, 1, 21, 30, 22, 123) * 1000],
    ["2026-12-01 21:30:22.123456+00", Date.UTC(2026, 11, 1, 21, 30, 22) * 1000 + 123456],
    ["2026-12-01 23:30:22+02", Date.UTC(2026, 11, 1, 21, 30, 22) * 1000],
    ["2026-12-01 16:00:22.5-05:30", Date.UTC(2026, 11, 1, 21, 30, 22, 500) * 1000],
  ])("reads %s to the microsecond", (text, micros) => {
    expect(microsOfTimestamp(text)).toBe(micros);
  });

  it("refuses what is not a timestamp", () => {
    expect(() => microsOfTimestamp("yesterday")).toThrow(/not a timestamp/);
  });
});

describe("cache entry", () => {
  it("round-trips a page with its bodies, ids and range", async () => {
    const json = `[${Array.from({ length: 40 }, (_, i) => `{"n":${i},"pad":"${"x".repeat(40)}"}`).join(",")}]`;
    const next = encodeCursor({ createdAtMicros: 10n, id: A });
    const range: PageRange = {
      low: { micros: 10, id: A },
      high: { micros: 1_795_734_327_803_123, id: B },
    };
    const entry = await buildEntry(7, { kind: "page", ids: [B, A], range, next }, json);
    const back = decodeEntry(encodeEntry(entry));
    expect(back).not.toBeNull();
    expect(back?.stamp).toBe(7);
    expect(back?.subject).toEqual({ kind: "page", ids: [B, A], range, next });
    expect(back?.identity.toString()).toBe(json);
    expect(gunzipSync(back?.gzip as Buffer).toString()).toBe(json);
    expect(back?.brotli?.length).toBeGreaterThan(0);
    expect(back?.etag).toBe(entry.etag);
  });

  it("keeps small bodies uncompressed, and remembers a todo that does not exist", async () => {
    const missing = await buildEntry(3, itemSubject(A, null), "");
    expect(missing.gzip).toBeNull();
    expect(decodeEntry(encodeEntry(missing))?.subject).toEqual({
      kind: "item",
      id: A,
      found: false,
    });
  });

  it("refuses what it did not write", () => {
    expect(decodeEntry(Buffer.from("garbage"))).toBeNull();
    expect(decodeEntry(Buffer.from('12\n{"k":"i","ids":[],"t":"x","b":[5,0,0]}\nabc'))).toBeNull();
  });
});

describe("change set message", () => {
  it("round-trips with the seq and epoch the publish script puts in front", () => {
    const body = encodeChangeBody(42, false, 1_700_000_000_000, [
      { id: A, position: { micros: 1_795_734_327_803_123, id: A } },
      { id: B, position: null },
    ]);
    expect(decodeChangeSet(`9 ep0ch ${body}`)).toEqual({
      seq: 9,
      epoch: "ep0ch",
      generation: 42,
      reset: false,
      publishedAt: 1_700_000_000_000,
      changes: [
        { id: A, position: { micros: 1_795_734_327_803_123, id: A } },
        { id: B, position: null },
      ],
    });
    expect(decodeChangeSet(`1 e ${encodeChangeBody(5, true, 1, [])}`)?.reset).toBe(true);
  });

  it.each(["", "1 e 5 0", "x e 5 0 1", "1 e 5 2 1", `1 e 5 0 1\n${A}`, `1 e 5 0 1\n${A} 1e5`])(
    "refuses %j",
    (message) => {
      expect(decodeChangeSet(message)).toBeNull();
    },
  );
});
