import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { decodeCursor, encodeCursor, MAX_CURSOR_MICROS } from "@million-rps/shared";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { OPENAPI_PATH } from "./support/openapi-contract";

// The document's cursor pattern describes exactly the cursors the read fleet decodes:
// a fuzzer that draws from the pattern (Schemathesis does) must never get a 400 for
// a value the document calls valid, and nothing the fleet accepts may break it.

const doc = parse(readFileSync(OPENAPI_PATH, "utf8"));
const pattern = new RegExp(doc.components.parameters.Cursor.schema.pattern);
const ID = "0b6f3f36-2c1d-4c4e-9a57-0d5f5e8b1a01";

/** Cursor text for a raw 64-bit time value and any 16 bytes, past decodeCursor's checks. */
function forged(micros: bigint, id = randomBytes(16)): string {
  const buf = Buffer.alloc(24);
  buf.writeBigUInt64BE(micros, 0);
  id.copy(buf, 8);
  return buf.toString("base64url");
}

describe("the Cursor parameter's pattern", () => {
  it.each([0n, 1n, 1_795_734_327_803_123n, MAX_CURSOR_MICROS])(
    "accepts the cursor for %s µs, as the fleet does",
    (micros) => {
      const text = encodeCursor({ createdAtMicros: micros, id: ID });
      expect(decodeCursor(text)).not.toBeNull();
      expect(text).toMatch(pattern);
    },
  );

  it.each([MAX_CURSOR_MICROS + 1n, 2n ** 62n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n])(
    "refuses the cursor for %s µs, as the fleet does",
    (micros) => {
      const text = forged(micros);
      expect(decodeCursor(text)).toBeNull();
      expect(text).not.toMatch(pattern);
    },
  );

  it("agrees with the fleet on every text it matches and on random forgeries", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (let i = 0; i < 2000; i++) {
      const bytes = randomBytes(32);
      const text = Array.from(bytes, (b) => alphabet[b % 64]).join("");
      const head = i % 2 === 0 ? `A${"AB"[i % 4 === 0 ? 0 : 1]}` : text.slice(0, 2);
      const candidate = head + text.slice(2);
      expect(pattern.test(candidate), candidate).toBe(decodeCursor(candidate) !== null);
    }
  });

  it("matches the value that was a 400 to a schema-valid request before", () => {
    expect("A0000000000000000000000000000000").not.toMatch(pattern);
    expect(decodeCursor("A0000000000000000000000000000000")).toBeNull();
  });
});
