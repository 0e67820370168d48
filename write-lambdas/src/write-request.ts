import {
  type CommandEnvelope,
  HttpError,
  type Validation,
  validateNewTodo,
  validateTodoUpdate,
} from "@million-rps/shared";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { Caller } from "./auth/token-verifier";
import { buildCommand, commandIds, type WriteKind } from "./commands";
import { idempotencyKeyFrom, jsonBody, todoIdFrom, ValidationError } from "./http/request";

/** Methods each handler serves; API Gateway routes only these, the check guards a miswired route. */
export const METHODS: Readonly<Record<WriteKind, readonly string[]>> = {
  create: ["POST"],
  update: ["PUT", "PATCH"],
  delete: ["DELETE"],
};

function valid<T>(result: Validation<T>): T {
  if (!result.ok) throw new ValidationError(result.field, result.message);
  return result.value;
}

/** A write ready to send, and what its Idempotency-Key (if any) must match on a retry. */
export interface WriteRequest {
  command: CommandEnvelope;
  idempotency?: IdempotencyScope;
}

/** A request as the key's fingerprint sees it: method, canonical path, the validated command data. */
export interface IdempotencyScope {
  key: string;
  method: string;
  path: string;
}

/**
 * Turns an authenticated request into the command to put on Kafka, or throws
 * the 4xx that explains why not. Pure: no network, no clock but `issuedAt`.
 */
export function writeFromRequest(
  kind: WriteKind,
  event: APIGatewayProxyEventV2,
  caller: Caller,
  issuedAt: Date,
  commandIdSecret: Uint8Array,
): WriteRequest {
  const method = event.requestContext.http.method.toUpperCase();
  if (!METHODS[kind].includes(method)) {
    throw new HttpError(405, "method_not_allowed", `${method} is not allowed here`, {
      Allow: METHODS[kind].join(", "),
    });
  }
  const actor = caller.sub;
  const idempotencyKey = idempotencyKeyFrom(event);
  const todoId = kind === "create" ? undefined : todoIdFrom(event);
  const path = todoId === undefined ? "/todos" : `/todos/${todoId}`;
  const ids = commandIds(
    { actor, method, path, ...(todoId && { todoId }), ...(idempotencyKey && { idempotencyKey }) },
    commandIdSecret,
  );
  let command: CommandEnvelope;
  if (kind === "create") {
    const data = valid(validateNewTodo(jsonBody(event)));
    command = buildCommand({ kind, ids, actor, issuedAt, data });
  } else if (kind === "update") {
    const data = valid(validateTodoUpdate(jsonBody(event)));
    command = buildCommand({ kind, ids, actor, issuedAt, data });
  } else {
    command = buildCommand({ kind, ids, actor, issuedAt });
  }
  return idempotencyKey === undefined
    ? { command }
    : { command, idempotency: { key: idempotencyKey, method, path } };
}
