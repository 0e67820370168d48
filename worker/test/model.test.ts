import type { CommandEnvelope } from "@million-rps/shared";
import { describe, expect, it } from "vitest";
import { generateWorkload } from "../bench/workload";
import { applyCommand, CommandStreamModel, foldCommands, type TodoRow } from "../src/model";
import { planWrites } from "../src/write-plan";

const ID = "00000000-0000-4000-8000-000000000001";
const OTHER_ID = "00000000-0000-4000-8000-000000000002";
let seq = 0;
function cmd(
  type: "create" | "update" | "delete",
  actor: string,
  data: Record<string, unknown> = {},
  todoId = ID,
): CommandEnvelope {
  seq++;
  return {
    v: 1,
    command_id: `10000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
    todo_id: todoId,
    actor,
    issued_at: `2025-01-01T00:00:${String(seq % 60).padStart(2, "0")}.000Z`,
    type,
    data,
  } as CommandEnvelope;
}
const createBy = (actor: string, todoId = ID) =>
  cmd("create", actor, { title: "milk", description: "", completed: false }, todoId);

describe("applyCommand", () => {
  it("creates a todo owned by the actor, timestamped by issued_at, version 1", () => {
    const c = createBy("alice");
    const { next, result } = applyCommand(null, c);
    expect(result).toEqual({ status: "applied", reason: null });
    expect(next).toEqual({
      id: ID,
      title: "milk",
      description: "",
      completed: false,
      user_id: "alice",
      created_at: c.issued_at,
      updated_at: c.issued_at,
      version: 1,
    });
  });

  it("lets the owner update only the fields sent, bumping version and updated_at", () => {
    const created = applyCommand(null, createBy("alice")).next;
    const u = cmd("update", "alice", { completed: true });
    const { next, result } = applyCommand(created, u);
    expect(result.status).toBe("applied");
    expect(next).toMatchObject({
      title: "milk",
      completed: true,
      version: 2,
      updated_at: u.issued_at,
    });
    expect(next?.created_at).toBe(created?.created_at);
  });

  it("rejects updates and deletes by anyone but the owner, leaving the very same state", () => {
    const created = applyCommand(null, createBy("alice")).next;
    for (const c of [cmd("update", "bob", { title: "mine now" }), cmd("delete", "bob")]) {
      const r = applyCommand(created, c);
      expect(r.result).toEqual({ status: "rejected", reason: "forbidden" });
      expect(r.next).toBe(created);
    }
  });

  it("rejects updates and deletes of a todo that does not exist", () => {
    expect(applyCommand(null, cmd("update", "alice", { completed: true })).result).toEqual({
      status: "rejected",
      reason: "not_found",
    });
    expect(applyCommand(null, cmd("delete", "alice")).result.reason).toBe("not_found");
  });

  it("deletes for the owner", () => {
    const created = applyCommand(null, createBy("alice")).next;
    expect(applyCommand(created, cmd("delete", "alice"))).toEqual({
      next: null,
      result: { status: "applied", reason: null },
    });
  });

  it("never lets a create take over an existing todo; the owner's re-create is a no-op", () => {
    const created = applyCommand(null, createBy("alice")).next;
    const theft = applyCommand(created, createBy("bob"));
    expect(theft.result.reason).toBe("forbidden");
    expect(theft.next).toBe(created);
    const again = applyCommand(created, createBy("alice"));
    expect(again.result.status).toBe("applied");
    expect(again.next).toBe(created);
  });
});

describe("foldCommands", () => {
  it("composes create, update and delete of one todo inside one batch, in order", () => {
    const stream = [
      createBy("alice"),
      cmd("update", "alice", { title: "oat milk" }),
      cmd("update", "bob", { title: "hijack" }),
      cmd("delete", "bob"),
      cmd("delete", "alice"),
      cmd("update", "alice", { completed: true }),
    ];
    const fold = foldCommands(
      stream,
      () => null,
      () => false,
    );
    expect(fold.after.get(ID)).toBeNull();
    expect(fold.recorded.map((r) => r.result.reason ?? r.result.status)).toEqual([
      "applied",
      "applied",
      "forbidden",
      "forbidden",
      "applied",
      "not_found",
    ]);
  });

  it("skips command ids already recorded and repeats inside the batch", () => {
    const c = createBy("alice");
    const u = cmd("update", "alice", { title: "x" });
    const fold = foldCommands(
      [c, u, u, c],
      () => null,
      (id) => id === c.command_id,
    );
    expect(fold.duplicates).toBe(3);
    // The create was recorded earlier but its todo is not in `before`: the update finds nothing.
    expect(fold.recorded.map((r) => r.result.reason)).toEqual(["not_found"]);
  });

  it("gives the same final state whatever the batch boundaries are", () => {
    const stream = generateWorkload({
      count: 3000,
      seed: 7,
      burstShare: 0.05,
      duplicateShare: 0.05,
    });
    const whole = new CommandStreamModel();
    whole.apply(stream);
    const sliced = new CommandStreamModel();
    for (let i = 0, size = 1; i < stream.length; i += size, size = 1 + ((size * 7) % 97)) {
      sliced.apply(stream.slice(i, i + size));
    }
    expect(sliced.todos).toEqual(whole.todos);
    expect(sliced.results).toEqual(whole.results);
    // The stream really has every kind of result in it.
    const reasons = new Set([...whole.results.values()].map((o) => o.reason ?? o.status));
    expect(reasons).toEqual(new Set(["applied", "forbidden", "not_found"]));
    expect(whole.results.size).toBeLessThan(stream.length);
  });
});

describe("planWrites", () => {
  const row = (id: string, version: number): TodoRow => ({
    id,
    title: "t",
    description: "",
    completed: false,
    user_id: "alice",
    created_at: "2025-01-01T00:00:00.000000Z",
    updated_at: "2025-01-01T00:00:00.000000Z",
    version,
  });

  it("inserts new todos, updates and deletes existing ones against the version read", () => {
    const before = new Map([[ID, row(ID, 3)]]);
    const lookup = (id: string) => before.get(id) ?? null;
    const stream = [
      cmd("update", "alice", { title: "new" }),
      createBy("bob", OTHER_ID),
      cmd("update", "bob", { completed: true }, OTHER_ID),
    ];
    const plan = planWrites(
      foldCommands(stream, lookup, () => false),
      lookup,
    );
    expect(plan.inserts.map((r) => [r.id, r.version, r.completed])).toEqual([[OTHER_ID, 2, true]]);
    expect(
      plan.updates.map((u) => [u.row.id, u.row.title, u.row.version, u.expectedVersion]),
    ).toEqual([[ID, "new", 4, 3]]);
    expect(plan.deletes).toEqual([]);
    expect(plan.recorded).toHaveLength(3);

    const del = planWrites(
      foldCommands([cmd("delete", "alice")], lookup, () => false),
      lookup,
    );
    expect(del.deletes).toEqual([{ id: ID, expectedVersion: 3 }]);
  });

  it("writes nothing for rejected commands or a todo created and deleted in the same batch", () => {
    const before = new Map([[ID, row(ID, 1)]]);
    const lookup = (id: string) => before.get(id) ?? null;
    const stream = [
      cmd("update", "mallory", { title: "x" }),
      createBy("bob", OTHER_ID),
      cmd("delete", "bob", {}, OTHER_ID),
    ];
    const plan = planWrites(
      foldCommands(stream, lookup, () => false),
      lookup,
    );
    expect([plan.inserts, plan.updates, plan.deletes]).toEqual([[], [], []]);
    expect(plan.recorded.map((r) => r.result.reason ?? r.result.status)).toEqual([
      "forbidden",
      "applied",
      "applied",
    ]);
  });

  it("turns delete-then-create of an existing id into an update of the whole row", () => {
    const before = new Map([[ID, row(ID, 5)]]);
    const lookup = (id: string) => before.get(id) ?? null;
    const create = createBy("carol");
    const plan = planWrites(
      foldCommands([cmd("delete", "alice"), create], lookup, () => false),
      lookup,
    );
    expect(plan.updates).toEqual([
      {
        expectedVersion: 5,
        row: expect.objectContaining({
          user_id: "carol",
          version: 1,
          created_at: create.issued_at,
        }),
      },
    ]);
  });
});
