import { createHash } from "node:crypto";
import type { CommandEnvelope } from "@million-rps/shared";
import type { IdempotencyScope } from "../write-request";

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("base64url");
}

/**
 * What a retry must repeat to be "the same request": method, canonical path and the
 * validated body with its fields in a fixed order. So `{"completed":true,"title":"a"}`
 * and `{"title":"a","completed":true}` are one request, and a create without
 * `completed` equals one with `"completed":false` (the same command either way).
 */
export function requestFingerprint(scope: IdempotencyScope, command: CommandEnvelope): string {
  const data = command.data as Readonly<Record<string, string | boolean>>;
  const body = JSON.stringify(data, Object.keys(data).sort());
  return sha256(`v1\n${scope.method}\n${scope.path}\n${body}`);
}

/** The Redis key of one user's Idempotency-Key: hashed, so neither can bloat or inject into it. */
export function idempotencyRedisKey(prefix: string, actor: string, key: string): string {
  return `${prefix}:idem:${sha256(JSON.stringify([actor, key]))}`;
}
