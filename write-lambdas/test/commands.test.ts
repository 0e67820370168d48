import { randomBytes } from "node:crypto";
import { isIssuedCommandId, isUuid, parseCommand } from "@million-rps/shared";
import { describe, expect, it } from "vitest";
import { buildCommand, commandIds } from "../src/commands";

const TODO = "0190b5e2-7c4d-7a3e-8f00-123456789abc";

describe("commandIds", () => {
  it("makes fresh random ids without an Idempotency-Key", () => {
    const a = commandIds({ actor: "alice", method: "POST", path: "/todos" });
    const b = commandIds({ actor: "alice", method: "POST", path: "/todos" });
    expect(isUuid(a.commandId) && isUuid(a.todoId)).toBe(true);
    expect(new Set([a.commandId, a.todoId, b.commandId, b.todoId]).size).toBe(4);
  });

  it("derives the same ids for the same user, route and key", () => {
    const request = { actor: "alice", method: "POST", path: "/todos", idempotencyKey: "k-1" };
    const a = commandIds(request);
    expect(commandIds(request)).toEqual(a);
    expect(a.commandId).not.toBe(a.todoId);
    // Version 8 (RFC 9562 custom): deterministic, and never mistaken for a random v4.
    expect(a.commandId[14]).toBe("8");
    expect(isUuid(a.todoId)).toBe(true);
  });

  it("scopes keys per user, per key, per method and per path", () => {
    const base = {
      actor: "alice",
      method: "PUT",
      path: `/todos/${TODO}`,
      todoId: TODO,
      idempotencyKey: "k",
    };
    const id = commandIds(base).commandId;
    expect(commandIds({ ...base, actor: "bob" }).commandId).not.toBe(id);
    expect(commandIds({ ...base, idempotencyKey: "k2" }).commandId).not.toBe(id);
    expect(commandIds({ ...base, method: "PATCH" }).commandId).not.toBe(id);
    const other = "0190b5e2-7c4d-7a3e-8f00-123456789abd";
    expect(commandIds({ ...base, path: `/todos/${other}`, todoId: other }).commandId).not.toBe(id);
    expect(commandIds({ ...base, method: "put" }).commandId).toBe(id);
  });

  it("tags command ids under the secret it is given, random or derived", () => {
    const secret = randomBytes(32);
    const plain = commandIds({ actor: "alice", method: "POST", path: "/todos" }, secret);
    const keyed = commandIds(
      { actor: "alice", method: "POST", path: "/todos", idempotencyKey: "k" },
      secret,
    );
    expect(isIssuedCommandId(plain.commandId, secret)).toBe(true);
    expect(isIssuedCommandId(keyed.commandId, secret)).toBe(true);
    expect(isIssuedCommandId(keyed.commandId, randomBytes(32))).toBe(false);
    expect(isIssuedCommandId(plain.todoId, secret), "todo ids carry no tag").toBe(false);
  });

  it("keeps the target todo id of an update or delete", () => {
    expect(
      commandIds({ actor: "a", method: "DELETE", path: `/todos/${TODO}`, todoId: TODO }).todoId,
    ).toBe(TODO);
    expect(
      commandIds({
        actor: "a",
        method: "DELETE",
        path: `/todos/${TODO}`,
        todoId: TODO,
        idempotencyKey: "k",
      }).todoId,
    ).toBe(TODO);
  });
});

describe("buildCommand", () => {
  const ids = { commandId: "0190b5e2-7c4d-8a3e-8f00-000000000001", todoId: TODO };
  const issuedAt = new Date("2026-01-02T03:04:05.678Z");

  it("builds envelopes the worker's parser accepts, field for field", () => {
    const commands = [
      buildCommand({
        kind: "create",
        ids,
        actor: "alice",
        issuedAt,
        data: { title: "t", description: "", completed: false },
      }),
      buildCommand({ kind: "update", ids, actor: "alice", issuedAt, data: { completed: true } }),
      buildCommand({ kind: "delete", ids, actor: "alice", issuedAt }),
    ];
    for (const command of commands) {
      const parsed = parseCommand(JSON.stringify(command));
      expect(parsed).toEqual({ ok: true, value: command });
    }
    expect(commands[0]).toEqual({
      v: 1,
      command_id: ids.commandId,
      type: "create",
      todo_id: TODO,
      actor: "alice",
      data: { title: "t", description: "", completed: false },
      issued_at: "2026-01-02T03:04:05.678Z",
    });
    expect(commands[2]?.data).toEqual({});
  });
});
