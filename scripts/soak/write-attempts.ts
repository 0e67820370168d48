import { setTimeout as sleep } from "node:timers/promises";
import { header } from "@million-rps/local";
import type { Outcome } from "./http1";
import type { Recorder, Route } from "./recorder";

/** One write the soak makes (create, update or delete), and what became of it. */
export interface WriteOp {
  kind: "create" | "update" | "delete";
  route: Route;
  todoId: string;
  /** Derived from the Idempotency-Key exactly as the write API derives it. */
  commandId: string;
  attempts: number;
  /** Its index in Writer.ops (samples of its attempts carry it). */
  index?: number;
  /** Every attempt, as "<s since traffic began> <status>" (the first 12). */
  history?: string[];
  outcome: "pending" | "accepted" | "abandoned" | "refused";
  /** The last status seen (for refused and abandoned writes). */
  lastStatus?: number | string;
  /** The 202 named another command id than the one the key derives (idempotency broken). */
  idMismatch?: string;
}

/** Sends one write request; resolves with the response (body kept) or why there is none. */
export type Send = (
  method: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  body?: string,
) => Promise<Outcome>;

export interface Attempt {
  send: Send;
  path: string;
  method: string;
  token: string;
  idempotencyKey: string;
  body?: unknown;
  recorder: Recorder;
  /** Date.now() after which the write is abandoned. */
  deadline: number;
}

/** Statuses a careful client retries with the same key, after Retry-After: 503 (not accepted), 409 (the same key still in flight). */
export function isRetriable(status: number): boolean {
  return status === 503 || status === 409;
}

/**
 * What a careful client does: send, and on a 503 or a 409 (after its Retry-After)
 * or a network error send again with the SAME Idempotency-Key, until a 202,
 * another answer (refused: a 422 means the key was reused for another request,
 * which the soak never does) or the deadline (abandoned). Sets `op.outcome`;
 * records every exchange.
 */
export async function sendUntilAccepted(op: WriteOp, a: Attempt): Promise<void> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${a.token}`,
    "idempotency-key": a.idempotencyKey,
    ...(a.body !== undefined && { "content-type": "application/json" }),
  };
  const body = a.body === undefined ? undefined : JSON.stringify(a.body);
  // An earlier attempt got no HTTP answer: the server may still be accepting it (a 409 then is truthful).
  let noAnswer = false;
  const note = (t: number, status: number | string) => {
    if (op.history !== undefined && op.history.length < 12)
      op.history.push(`${Math.round(t / 100) / 10}s ${status}`);
  };
  while (Date.now() < a.deadline) {
    op.attempts++;
    const t = a.recorder.now();
    let wait = 1000;
    const o = await a.send(a.method, a.path, headers, body);
    if (o.ok) {
      const { res } = o;
      const retryAfter = header(res.head, "retry-after");
      a.recorder.record(op.route, t, res.status, retryAfter !== null, noAnswer, op.index);
      note(t, res.status);
      op.lastStatus = res.status;
      if (res.status === 202) {
        let got: string | undefined;
        try {
          got = (JSON.parse(res.body?.toString("utf8") ?? "") as { command_id?: string })
            .command_id;
        } catch {}
        if (got !== op.commandId) op.idMismatch = got ?? "(no command_id in the 202)";
        op.outcome = "accepted";
        return;
      }
      if (!isRetriable(res.status)) {
        op.outcome = "refused";
        return;
      }
      wait = Math.min(5, Math.max(1, Number(retryAfter) || 1)) * 1000;
    } else {
      op.lastStatus = o.code;
      a.recorder.record(op.route, t, o.code, false, noAnswer, op.index);
      note(t, o.code);
      noAnswer = true;
    }
    await sleep(wait);
  }
  op.outcome = "abandoned";
}
