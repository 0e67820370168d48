import { isUuid } from "./ids";

/** A position in `created_at DESC, id DESC` order: the last row of the previous page. */
export interface PageCursor {
  /** created_at as microseconds since the Unix epoch (Postgres precision, exact). */
  createdAtMicros: bigint;
  id: string;
}

/**
 * The latest instant a cursor may name: 2^53 - 1 microseconds after the epoch (the
 * year 2255). Positions are compared as exact JS numbers in the read fleet, and
 * every created_at this API writes is far below it; a forged cursor beyond it
 * (Postgres would fail with "interval out of range") is refused as malformed.
 */
export const MAX_CURSOR_MICROS = BigInt(Number.MAX_SAFE_INTEGER);

const CURSOR_BYTES = 24; // 8 bytes of microseconds + 16 bytes of UUID
const CURSOR_CHARS = 32; // base64url of 24 bytes, no padding
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;

/** Opaque to clients: base64url of the binary position, so it is short and URL-safe. */
export function encodeCursor(cursor: PageCursor): string {
  const buf = Buffer.alloc(CURSOR_BYTES);
  buf.writeBigInt64BE(cursor.createdAtMicros, 0);
  buf.write(cursor.id.replaceAll("-", ""), 8, "hex");
  return buf.toString("base64url");
}

/** Strict decode: anything but a canonical cursor this API could issue is `null` (a 400 upstream). */
export function decodeCursor(text: string): PageCursor | null {
  if (text.length !== CURSOR_CHARS || !BASE64URL_RE.test(text)) return null;
  const buf = Buffer.from(text, "base64url");
  if (buf.length !== CURSOR_BYTES || buf.toString("base64url") !== text) return null;
  const createdAtMicros = buf.readBigInt64BE(0);
  if (createdAtMicros < 0n || createdAtMicros > MAX_CURSOR_MICROS) return null;
  const hex = buf.toString("hex", 8);
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  if (!isUuid(id)) return null;
  return { createdAtMicros, id };
}
