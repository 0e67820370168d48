import { createHash, randomUUID } from "node:crypto";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Canonical lower-case UUID (any version). Upper case is refused so cache keys stay canonical. */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && value.length === 36 && UUID_RE.test(value);
}

export function newId(): string {
  return randomUUID();
}

/**
 * A deterministic UUID (version 8, RFC 9562 "custom") from SHA-256 of the parts.
 * Used for Idempotency-Key: the same key from the same user always yields the same
 * command id and todo id, with no store on the hot path.
 */
export function deriveId(...parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) {
    hash.update(String(Buffer.byteLength(part)));
    hash.update(":");
    hash.update(part);
  }
  const b = hash.digest().subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x80; // version 8
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant
  const hex = b.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
