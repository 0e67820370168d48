import { DependencyError, HttpError } from "@million-rps/shared";
import type { Logger } from "@million-rps/shared/log";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { TokenVerifier } from "./auth/token-verifier";
import type { WriteKind } from "./commands";
import { header } from "./http/request";
import { acceptedResponse, errorResponse, type WriteResponse } from "./http/response";
import { acceptOnce } from "./idempotency/accept-once";
import { idempotencyRedisKey, requestFingerprint } from "./idempotency/fingerprint";
import type { IdempotencyStore } from "./idempotency/idempotency-store";
import type { CommandSender } from "./kafka/command-sender";
import { noWriteMetrics, type WriteMetrics } from "./telemetry/write-metrics";
import { writeFromRequest } from "./write-request";

/** What a write handler needs, built once per cold start (see runtime.ts). */
export interface WriteDeps {
  verify: TokenVerifier;
  sender: CommandSender;
  /** Fingerprints of Idempotency-Keys; consulted only by requests that carry one. */
  idempotency: { store: IdempotencyStore; keyPrefix: string };
  /** Tags every command id (COMMAND_ID_SECRET, shared with the read fleet). */
  commandIdSecret: Uint8Array;
  retryAfterSec: number;
  log: Logger;
  /** EMF on Lambda (telemetry/emf-metrics.ts); none by default. */
  metrics?: WriteMetrics;
  now?: () => Date;
}

export type WriteHandler = (event: APIGatewayProxyEventV2) => Promise<WriteResponse>;

function unavailable(err: DependencyError, retryAfterSec: number): HttpError {
  return new HttpError(
    503,
    "unavailable",
    "the write was not acknowledged by the command log; retry later with the same Idempotency-Key",
    { "Retry-After": String(retryAfterSec) },
    { cause: err },
  );
}

/** The innermost error (e.g. kafkajs's connection error under our 503): what an operator needs. */
function rootCause(err: unknown): unknown {
  let e = err;
  for (let depth = 0; depth < 5 && e instanceof Error && e.cause !== undefined; depth++)
    e = e.cause;
  return e;
}

/**
 * The thin edge every route shares: authenticate, turn the request into a
 * command, put it on Kafka, answer 202 only after the acknowledgement. With an
 * Idempotency-Key the send runs under acceptOnce (replay, 409, 422).
 */
export function writeHandler(kind: WriteKind, deps: WriteDeps): WriteHandler {
  const now = deps.now ?? (() => new Date());
  const metrics = deps.metrics ?? noWriteMetrics;
  return async function handleWrite(event) {
    try {
      const authorization = header(event, "authorization");
      // A cold container's Kafka connect (MSK IAM) runs while the key source is fetched;
      // anonymous requests never make it connect.
      if (authorization !== undefined) deps.sender.prepare?.();
      const caller = await deps.verify(authorization);
      const { command, idempotency } = writeFromRequest(
        kind,
        event,
        caller,
        now(),
        deps.commandIdSecret,
      );
      const send = async function sendCommand(): Promise<WriteResponse> {
        const started = performance.now();
        try {
          await deps.sender.send(command);
        } catch (err) {
          metrics.sent(performance.now() - started, false);
          if (err instanceof DependencyError) throw unavailable(err, deps.retryAfterSec);
          throw err;
        }
        metrics.sent(performance.now() - started, true);
        return acceptedResponse(command.command_id, command.todo_id);
      };
      const response =
        idempotency === undefined
          ? await send()
          : await acceptOnce(
              deps.idempotency.store,
              {
                redisKey: idempotencyRedisKey(
                  deps.idempotency.keyPrefix,
                  caller.sub,
                  idempotency.key,
                ),
                fingerprint: requestFingerprint(idempotency, command),
              },
              send,
              { retryAfterSec: deps.retryAfterSec, log: deps.log },
            );
      metrics.answered(response.statusCode);
      deps.log.debug("command accepted", {
        type: command.type,
        command_id: command.command_id,
        todo_id: command.todo_id,
      });
      return response;
    } catch (err) {
      const response = errorResponse(err);
      metrics.answered(response.statusCode, err instanceof HttpError ? err.code : "internal");
      const fields = { route: kind, status: response.statusCode, err: rootCause(err) };
      if (response.statusCode >= 500) deps.log.warn("write failed", fields);
      else deps.log.debug("write refused", fields);
      return response;
    }
  };
}
