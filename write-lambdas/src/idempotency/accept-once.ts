import { DependencyError, HttpError } from "@million-rps/shared";
import type { Logger } from "@million-rps/shared/log";
import { replayedResponse, storedAnswer, type WriteResponse } from "../http/response";
import type { IdempotencyStore } from "./idempotency-store";

export interface KeyedWrite {
  /** The user's key, as stored (see idempotencyRedisKey). */
  redisKey: string;
  /** The request it was first used for (see requestFingerprint). */
  fingerprint: string;
}

function inFlight(retryAfterSec: number): HttpError {
  return new HttpError(
    409,
    "idempotency_key_in_flight",
    "a request with this Idempotency-Key is still being accepted; retry shortly",
    { "Retry-After": String(retryAfterSec) },
  );
}

function reused(): HttpError {
  return new HttpError(
    422,
    "idempotency_key_reused",
    "this Idempotency-Key was already used for a different request (method, path or body)",
  );
}

function storeUnavailable(err: DependencyError, retryAfterSec: number): HttpError {
  return new HttpError(
    503,
    "unavailable",
    "the write was not accepted: its Idempotency-Key cannot be checked right now; retry later with the same key",
    { "Retry-After": String(retryAfterSec) },
    { cause: err },
  );
}

/**
 * Runs `accept` at most once at a time per key and fingerprint (draft-ietf-httpapi-
 * idempotency-key-header §2.7): the same request again replays the first answer, a
 * different one is 422, one arriving while the first is still being accepted is 409.
 * Only an accepted write's answer is kept; a failed one releases the key so the
 * retry proceeds. The store's outage is a 503 before anything is sent.
 */
export async function acceptOnce(
  store: IdempotencyStore,
  write: KeyedWrite,
  accept: () => Promise<WriteResponse>,
  options: { retryAfterSec: number; log: Logger },
): Promise<WriteResponse> {
  let claim: Awaited<ReturnType<IdempotencyStore["claim"]>>;
  try {
    claim = await store.claim(write.redisKey, write.fingerprint);
  } catch (err) {
    if (err instanceof DependencyError) throw storeUnavailable(err, options.retryAfterSec);
    throw err;
  }
  if (claim.kind === "replay") return replayedResponse(claim.answer);
  if (claim.kind === "in_flight") throw inFlight(options.retryAfterSec);
  if (claim.kind === "mismatch") throw reused();

  let response: WriteResponse;
  try {
    response = await accept();
  } catch (err) {
    // Not accepted: free the key now (else it frees itself when the in-flight entry expires).
    await store.release(write.redisKey, claim.entry).catch((releaseErr: unknown) => {
      options.log.warn("idempotency key not released; it expires on its own", {
        err: releaseErr,
      });
    });
    throw err;
  }
  // Accepted either way: without the stored answer a retry re-sends the same ids,
  // which the worker applies once.
  await store
    .complete(write.redisKey, claim.entry, write.fingerprint, storedAnswer(response))
    .catch((err: unknown) => {
      options.log.warn("idempotency answer not stored; a retry re-sends the same ids", { err });
    });
  return response;
}
