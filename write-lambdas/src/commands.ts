import {
  COMMAND_VERSION,
  type CommandEnvelope,
  deriveId,
  issueCommandId,
  type NewTodoFields,
  newId,
  type TodoFields,
} from "@million-rps/shared";
import { DEV_COMMAND_ID_SECRET } from "@million-rps/shared/config";

/** The three writes, one Lambda each; `update` serves both PUT and PATCH. */
export type WriteKind = "create" | "update" | "delete";

const DEV_SECRET_BYTES = new TextEncoder().encode(DEV_COMMAND_ID_SECRET);

export interface CommandIds {
  commandId: string;
  todoId: string;
}

export interface IdRequest {
  /** The caller's `sub`: keys are scoped per user, so two users never collide. */
  actor: string;
  method: string;
  /** Canonical route path: `/todos` or `/todos/{id}` with the id filled in. */
  path: string;
  /** The todo an update or delete targets; absent for a create. */
  todoId?: string;
  idempotencyKey?: string;
}

/**
 * Ids for one write. With an Idempotency-Key they are derived (same user, method,
 * path and key: same ids), so a retried POST names the same todo and the worker's
 * applied-commands table applies it once even when the key's fingerprint is gone.
 * Command ids carry a tag under `commandIdSecret` (see issueCommandId) that lets the
 * read fleet answer 404 for ids never issued. The default secret is the local dev
 * one, for tools that predict ids against a local stack (the soak); the handlers
 * always pass the configured COMMAND_ID_SECRET.
 */
export function commandIds(
  request: IdRequest,
  commandIdSecret: Uint8Array = DEV_SECRET_BYTES,
): CommandIds {
  const { actor, method, path, idempotencyKey: key } = request;
  const route = `${method.toUpperCase()} ${path}`;
  const commandId =
    key === undefined
      ? issueCommandId(commandIdSecret)
      : issueCommandId(commandIdSecret, "command", actor, route, key);
  const todoId =
    request.todoId ?? (key === undefined ? newId() : deriveId("todo", actor, route, key));
  return { commandId, todoId };
}

interface EnvelopeBase {
  ids: CommandIds;
  actor: string;
  issuedAt: Date;
}

export type CommandInput =
  | (EnvelopeBase & { kind: "create"; data: NewTodoFields })
  | (EnvelopeBase & { kind: "update"; data: TodoFields })
  | (EnvelopeBase & { kind: "delete" });

/** The versioned envelope the worker applies; key it by `todo_id` so one todo's commands stay in order. */
export function buildCommand(input: CommandInput): CommandEnvelope {
  const base = {
    v: COMMAND_VERSION,
    command_id: input.ids.commandId,
    todo_id: input.ids.todoId,
    actor: input.actor,
    issued_at: input.issuedAt.toISOString(),
  } as const;
  switch (input.kind) {
    case "create":
      return { ...base, type: "create", data: input.data };
    case "update":
      return { ...base, type: "update", data: input.data };
    case "delete":
      return { ...base, type: "delete", data: {} };
  }
}
