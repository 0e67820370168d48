import { randomBytes } from "node:crypto";
import { DependencyError } from "@million-rps/shared";
import type { LazyRedis } from "./redis-connection";

/** The first answer to a key, replayed byte for byte to a retry of the same request. */
export interface StoredAnswer {
  status: number;
  body: string;
  location?: string;
}

/** What the store says about a key when a request arrives with it. */
export type Claim =
  /** Ours: no other request holds the key; go ahead, then complete or release it. */
  | { kind: "claimed"; entry: string }
  /** The same request was answered before: replay that answer. */
  | { kind: "replay"; answer: StoredAnswer }
  /** The same request is being accepted right now (409). */
  | { kind: "in_flight" }
  /** The key was used for a different request (422). */
  | { kind: "mismatch" };

type Entry =
  | { state: "in_flight"; fp: string; token: string }
  | { state: "done"; fp: string; answer: StoredAnswer };

export interface IdempotencyStore {
  claim(key: string, fingerprint: string): Promise<Claim>;
  /** Replaces our in-flight entry with the answer, kept `ttlSec`. */
  complete(key: string, entry: string, fingerprint: string, answer: StoredAnswer): Promise<void>;
  /** Drops our in-flight entry (the write was not accepted), so a retry can proceed at once. */
  release(key: string, entry: string): Promise<void>;
}

function parseEntry(text: string): Entry | null {
  try {
    const e = JSON.parse(text) as Partial<Entry> & { v?: unknown };
    if (e.v !== 1 || typeof e.fp !== "string") return null;
    if (e.state === "in_flight" && typeof e.token === "string") return e as Entry;
    if (e.state === "done" && typeof e.answer?.status === "number") return e as Entry;
  } catch {}
  return null;
}

/** Pure: what an existing entry means for a request with `fingerprint`. */
export function claimFromEntry(text: string, fingerprint: string): Claim | null {
  const entry = parseEntry(text);
  if (entry === null) return null;
  if (entry.fp !== fingerprint) return { kind: "mismatch" };
  return entry.state === "done" ? { kind: "replay", answer: entry.answer } : { kind: "in_flight" };
}

export function inFlightEntry(fingerprint: string, token: string): string {
  return JSON.stringify({ v: 1, state: "in_flight", fp: fingerprint, token });
}

// SET NX, or the entry already there: one atomic round trip.
const CLAIM = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('GET', KEYS[1])`;
// The answer replaces our own in-flight entry (or an expired one), never another request's.
const COMPLETE = `local current = redis.call('GET', KEYS[1])
if current == ARGV[1] or current == false then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface RedisStoreOptions {
  redis: LazyRedis;
  /** Life of an in-flight entry: longer than the whole accept (send deadline and discard). */
  inFlightMs: number;
  /** Retention of an answer (IDEMPOTENCY_TTL_SEC). */
  ttlSec: number;
  /** First wait before releasing a claim whose answer was lost (doubles, up to 2 s). */
  releaseRetryMs?: number;
}

function unavailable(err: unknown): DependencyError {
  return new DependencyError("redis", "the idempotency store is unavailable", { cause: err });
}

/**
 * Fingerprints and first answers in Redis. Every failure to reach Redis is a
 * DependencyError: the write answers 503 and nothing is sent, never a silent double.
 */
export function redisIdempotencyStore(options: RedisStoreOptions): IdempotencyStore {
  const { redis, inFlightMs, ttlSec } = options;

  /**
   * A claim that timed out may still have landed: then the key would stay "in flight"
   * for inFlightMs with nothing in flight, and the client's retry would get 409s. So
   * keep trying to release our own entry (never another request's) in the background.
   */
  function releaseLater(key: string, entry: string): void {
    const started = Date.now();
    const attempt = (delay: number) => {
      const timer = setTimeout(async () => {
        try {
          await (await redis.get()).eval(RELEASE, 1, key, entry);
        } catch {
          if (Date.now() - started < inFlightMs) attempt(Math.min(delay * 2, 2_000));
        }
      }, delay);
      timer.unref();
    };
    attempt(options.releaseRetryMs ?? 100);
  }

  return {
    async claim(key, fingerprint) {
      const token = randomBytes(12).toString("base64url");
      const mine = inFlightEntry(fingerprint, token);
      let existing: unknown;
      try {
        existing = await (await redis.get()).eval(CLAIM, 1, key, mine, String(inFlightMs));
      } catch (err) {
        releaseLater(key, mine);
        throw unavailable(err);
      }
      if (existing === null) return { kind: "claimed", entry: mine };
      const claim = typeof existing === "string" ? claimFromEntry(existing, fingerprint) : null;
      if (claim === null) throw unavailable(new Error(`unreadable idempotency entry at ${key}`));
      return claim;
    },
    async complete(key, entry, fingerprint, answer) {
      const done = JSON.stringify({ v: 1, state: "done", fp: fingerprint, answer });
      try {
        await (await redis.get()).eval(COMPLETE, 1, key, entry, done, String(ttlSec));
      } catch (err) {
        throw unavailable(err);
      }
    },
    async release(key, entry) {
      try {
        await (await redis.get()).eval(RELEASE, 1, key, entry);
      } catch (err) {
        throw unavailable(err);
      }
    },
  };
}
