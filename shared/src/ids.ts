import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Canonical lower-case UUID (any version). Upper case is refused so cache keys stay canonical. */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && value.length === 36 && UUID_RE.test(value);
}

export function newId(): string {
  return randomUUID();
}

/** SHA-256 of the parts, each prefixed by its byte length so ("ab","c") never equals ("a","bc"). */
function digest(parts: readonly string[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) {
    hash.update(String(Buffer.byteLength(part)));
    hash.update(":");
    hash.update(part);
  }
  return hash.digest();
}

/** Sets the version 8 (RFC 9562 "custom") and variant bits in place. */
function markVersion8(b: Buffer): void {
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x80;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
}

function format(b: Buffer): string {
  const hex = b.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A deterministic UUID (version 8, RFC 9562 "custom") from SHA-256 of the parts.
 * Used for Idempotency-Key: the same key from the same user always yields the same
 * todo id (and, through issueCommandId, the same command id).
 */
export function deriveId(...parts: readonly string[]): string {
  const b = digest(parts).subarray(0, 16);
  markVersion8(b);
  return format(b);
}

/**
 * Command ids carry a tag the read fleet can check, so `GET /commands/:id` tells an
 * id this API issued (pending until recorded) from one it never did (404).
 *
 * Layout (a UUIDv8): bytes 0..9 are the id's identity, random or derived, with the
 * version and variant bits set (74 free bits); bytes 10..15 are the first 48 bits
 * of HMAC-SHA256(secret, label ‖ bytes 0..9). The split favours uniqueness over
 * tag length: command ids must not collide inside the worker's dedupe window
 * (a collision is a skipped, i.e. lost, write), and 74 bits keep that below 1e-4
 * even for 10^9 ids, while 48 bits of tag leave a forger one chance in 2.8e14 per
 * guess, each guess a request.
 */
const COMMAND_ID_BODY_BYTES = 10;
const COMMAND_ID_TAG_BYTES = 6;
const TAG_LABEL = "million-rps command id v1\n";

function commandIdTag(secret: Uint8Array, body: Uint8Array): Buffer {
  return createHmac("sha256", secret)
    .update(TAG_LABEL)
    .update(body)
    .digest()
    .subarray(0, COMMAND_ID_TAG_BYTES);
}

/**
 * A new command id: random without parts, or derived from `parts` (e.g. user, route
 * and Idempotency-Key), so the same parts and secret always give the same id.
 */
export function issueCommandId(secret: Uint8Array, ...parts: readonly string[]): string {
  const b = Buffer.alloc(16);
  const body = parts.length === 0 ? randomBytes(COMMAND_ID_BODY_BYTES) : digest(parts);
  body.copy(b, 0, 0, COMMAND_ID_BODY_BYTES);
  markVersion8(b);
  commandIdTag(secret, b.subarray(0, COMMAND_ID_BODY_BYTES)).copy(b, COMMAND_ID_BODY_BYTES);
  return format(b);
}

/** True only for an id issueCommandId made with this secret: version 8, RFC 9562 variant, valid tag. */
export function isIssuedCommandId(id: unknown, secret: Uint8Array): boolean {
  if (!isUuid(id)) return false;
  const b = Buffer.from(id.replaceAll("-", ""), "hex");
  if (((b[6] ?? 0) & 0xf0) !== 0x80 || ((b[8] ?? 0) & 0xc0) !== 0x80) return false;
  const expected = commandIdTag(secret, b.subarray(0, COMMAND_ID_BODY_BYTES));
  return timingSafeEqual(expected, b.subarray(COMMAND_ID_BODY_BYTES));
}
