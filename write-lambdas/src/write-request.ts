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

/**
 * Turns an authenticated request into the command to put on Kafka, or throws
 * the 4xx that explains why not. Pure: no network, no clock but `issuedAt`.
 */
export function commandFromRequest(
  kind: WriteKind,
  event: APIGatewayProxyEventV2,
  caller: Caller,
  issuedAt: Date,
): CommandEnvelope {
  const method = event.requestContext.http.method.toUpperCase();
  if (!METHODS[kind].includes(method)) {
    throw new HttpError(405, "method_not_allowed", `${method} is not allowed here`, {
      Allow: METHODS[kind].join(", "),
    });
  }
  const actor = caller.sub;
  const idempotencyKey = idempotencyKeyFrom(event);
  if (kind === "create") {
    const data = valid(validateNewTodo(jsonBody(event)));
    const ids = commandIds({ actor, method, path: "/todos", idempotencyKey });
    return buildCommand({ kind, ids, actor, issuedAt, data });
  }
  const todoId = todoIdFrom(event);
  const ids = commandIds({ actor, method, path: `/todos/${todoId}`, todoId, idempotencyKey });
  if (kind === "update") {
    const data = valid(validateTodoUpdate(jsonBody(event)));
    return buildCommand({ kind, ids, actor, issuedAt, data });
  }
  return buildCommand({ kind, ids, actor, issuedAt });
}
