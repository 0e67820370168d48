import type { Recorder } from "./recorder";
import type { WriteOp } from "./writer";

export interface Attempt {
  url: string;
  method: string;
  token: string;
  idempotencyKey: string;
  body?: unknown;
  recorder: Recorder;
  /** Date.now() after which the write is abandoned. */
  deadline: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function errorCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === "string") return cause.code;
  return err instanceof Error ? err.name : "ERROR";
}

/**
 * What a careful client does: send, and on a 503 (after its Retry-After) or a
 * network error send again with the SAME Idempotency-Key, until a 202, another
 * answer (refused) or the deadline (abandoned). Sets `op.outcome`; records every exchange.
 */
export async function sendUntilAccepted(op: WriteOp, a: Attempt): Promise<void> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${a.token}`,
    "idempotency-key": a.idempotencyKey,
    ...(a.body !== undefined && { "content-type": "application/json" }),
  };
  while (Date.now() < a.deadline) {
    op.attempts++;
    const t = a.recorder.now();
    let wait = 1000;
    try {
      const res = await fetch(a.url, {
        method: a.method,
        headers,
        ...(a.body !== undefined && { body: JSON.stringify(a.body) }),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      const retryAfter = res.headers.get("retry-after");
      a.recorder.record(op.route, t, res.status, retryAfter !== null);
      op.lastStatus = res.status;
      if (res.status === 202) {
        const got = (JSON.parse(text) as { command_id?: string }).command_id;
        if (got !== op.commandId) op.idMismatch = got;
        op.outcome = "accepted";
        return;
      }
      if (res.status !== 503) {
        op.outcome = "refused";
        return;
      }
      wait = Math.min(5, Math.max(1, Number(retryAfter) || 1)) * 1000;
    } catch (err) {
      op.lastStatus = errorCode(err);
      a.recorder.record(op.route, t, op.lastStatus);
    }
    await sleep(wait);
  }
  op.outcome = "abandoned";
}
