import { freshDatabase } from "@million-rps/local/testing";
import type { CommandEnvelope } from "@million-rps/shared";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateWorkload, seededRandom } from "../bench/workload";
import { applyBatch } from "../src/apply";
import { WRITE_SQL } from "../src/apply-sql";
import { CommandStreamModel, type TodoRow } from "../src/model";
import { plainArray, textArray } from "../src/pg-arrays";
import { RecentCommands } from "../src/recent-commands";
import { commandColumns, todoColumns } from "../src/write-plan";
import { expectedTodos, readResults, readTodos } from "./support/stream";

let pool: pg.Pool;
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await freshDatabase(), max: 2 });
});
afterAll(async () => {
  await pool.end();
});

/** WRITE_SQL parameters for one update of `row` recorded as `commandId`, read at `expected`. */
function planned(commandId: string, todoId: string, row: TodoRow, expected: number): string[] {
  const empty = todoColumns([]);
  return [
    ...commandColumns([
      {
        command: {
          v: 1,
          command_id: commandId,
          todo_id: todoId,
          actor: row.user_id,
          issued_at: row.updated_at,
          type: "update",
          data: { title: row.title },
        },
        result: { status: "applied", reason: null },
      },
    ]),
    ...empty,
    ...todoColumns([{ ...row, version: expected + 1 }]),
    plainArray([expected]),
    "{}",
    "{}",
    "1",
    "0",
  ];
}

async function expectModelled(stream: readonly CommandEnvelope[]) {
  const model = new CommandStreamModel();
  model.apply(stream);
  const ids = new Set(stream.map((c) => c.todo_id));
  const todos = new Map([...(await readTodos(pool))].filter(([id]) => ids.has(id)));
  const commandIds = new Set(stream.map((c) => c.command_id));
  const results = new Map([...(await readResults(pool))].filter(([id]) => commandIds.has(id)));
  expect(todos).toEqual(expectedTodos(model.todos));
  expect(results).toEqual(model.results);
}

describe("array literals", () => {
  it("carry any text to Postgres unchanged", async () => {
    const tricky = [
      'say "hi"',
      "back\\slash\\",
      "{braces},commas",
      "",
      "NULL",
      " spaced ",
      "ünï 🚀",
      null,
    ];
    const { rows } = await pool.query("SELECT $1::text[] AS v, $2::bool[] AS b", [
      textArray(tricky),
      plainArray([true, false]),
    ]);
    expect(rows[0]).toEqual({ v: tricky, b: [true, false] });
  });
});

describe("applyBatch against Postgres", () => {
  it("redoes a batch carefully when a command was recorded by an earlier process", async () => {
    const stream = generateWorkload({ count: 400, seed: 11, duplicateShare: 0 });
    await applyBatch(pool, stream.slice(0, 300), new RecentCommands());
    // A restarted worker (nothing remembered) gets an overlapping batch: a redelivery.
    const result = await applyBatch(pool, stream.slice(250), new RecentCommands());
    expect(result.redone).toBe(true);
    expect(result.duplicates).toBe(50);
    await expectModelled(stream);
  });

  it("reports every todo it changed, with its position now (null once deleted)", async () => {
    const stream = generateWorkload({ count: 300, seed: 21, duplicateShare: 0 });
    const result = await applyBatch(pool, stream, new RecentCommands());
    const model = new CommandStreamModel();
    model.apply(stream);
    const changed = new Map(result.changes.map((c) => [c.id, c.position]));
    const { rows } = await pool.query<{ id: string; micros: string }>(
      `SELECT id::text, (extract(epoch FROM created_at) * 1000000)::bigint::text AS micros
       FROM todos WHERE id = ANY($1::uuid[])`,
      [[...changed.keys()]],
    );
    const inTable = new Map(rows.map((r) => [r.id, Number(r.micros)]));
    for (const [id, position] of changed) {
      expect(position?.micros ?? null, id).toBe(inTable.get(id) ?? null);
    }
    // Everything that exists at the end was created here, so it is listed.
    for (const id of model.todos.keys()) expect(changed.has(id), id).toBe(true);
  });

  // Regression (issue 13): a batch that committed but whose acknowledgement was lost found
  // every command recorded on its redo, applied 0 and published nothing: readers kept the
  // old pages until their TTL.
  it("a redo that finds its commands already recorded still reports their todos", async () => {
    const stream = generateWorkload({ count: 120, seed: 22, duplicateShare: 0 });
    const first = await applyBatch(pool, stream, new RecentCommands());
    // The same batch again in a process that never saw the first commit succeed.
    const redo = await applyBatch(pool, stream, new RecentCommands());
    expect(redo).toMatchObject({ applied: 0, duplicates: stream.length, redone: true });
    // It cannot tell which of them the lost commit changed, so it lists every todo the
    // commands name (rejected ones too), each with its position now.
    const again = new Map(redo.changes.map((c) => [c.id, c.position?.micros ?? null]));
    for (const c of first.changes) expect(again.get(c.id), c.id).toBe(c.position?.micros ?? null);
    expect(again.size).toBe(new Set(stream.map((c) => c.todo_id)).size);
  });

  it("notices a create of an id that exists although the batch assumed it new", async () => {
    const [first] = generateWorkload({ count: 1, seed: 12 });
    if (first?.type !== "create") throw new Error("expected a create");
    const again = (actor: string, n: number, type: "create" | "delete" | "update") =>
      ({
        ...first,
        command_id: first.command_id.replace(/.{4}$/, String(1000 + n)),
        actor,
        type,
        data: type === "create" ? first.data : type === "update" ? { completed: true } : {},
        issued_at: new Date(Date.parse(first.issued_at) + n).toISOString(),
      }) as CommandEnvelope;
    const stream = [
      first,
      // Someone else "creates" the same id, then tries to change it: both forbidden.
      again("mallory", 1, "create"),
      again("mallory", 2, "update"),
      // The owner's re-create is a no-op; created-and-deleted inside one batch.
      again(first.actor, 3, "create"),
      again(first.actor, 4, "delete"),
    ];
    await applyBatch(pool, [first], new RecentCommands());
    const theft = await applyBatch(pool, stream.slice(1, 3), new RecentCommands());
    expect(theft).toMatchObject({ redone: true, forbidden: 2, applied: 0 });
    const vanish = await applyBatch(pool, stream.slice(3), new RecentCommands());
    expect(vanish).toMatchObject({ redone: true, applied: 2 });
    await expectModelled(stream);
  });

  it("writes nothing of a batch whose todo changed after it was read", async () => {
    const [created] = generateWorkload({ count: 1, seed: 14 });
    if (created === undefined) throw new Error("expected a command");
    await applyBatch(pool, [created]);
    const row = (await readTodos(pool)).get(created.todo_id);
    if (row === undefined) throw new Error("expected the todo");
    // The batch read version 1; another writer has moved the todo on since.
    await pool.query("UPDATE todos SET version = 2 WHERE id = $1", [created.todo_id]);
    const update = { ...created, command_id: "30000000-0000-4000-8000-000000000001" };
    const stale = planned(update.command_id, created.todo_id, { ...row, title: "stale" }, 1);
    const failure = await pool.query(WRITE_SQL, stale).catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: "40001" });
    const recorded = await pool.query("SELECT 1 FROM commands WHERE command_id = $1", [
      update.command_id,
    ]);
    expect(recorded.rowCount).toBe(0); // the command's record went with the rest
    expect((await readTodos(pool)).get(created.todo_id)?.title).toBe(row.title);
  });

  it("ends with the modelled table under random redeliveries and restarts", async () => {
    const stream = generateWorkload({ count: 6_000, seed: 13, burstShare: 0.03 });
    const random = seededRandom(13);
    let recent = new RecentCommands();
    let redone = 0;
    for (let start = 0; start < stream.length; ) {
      const end = Math.min(stream.length, start + 50 + Math.floor(random() * 400));
      const result = await applyBatch(pool, stream.slice(start, end), recent);
      if (result.redone) redone++;
      if (random() < 0.2) recent = new RecentCommands(); // a restart forgets everything
      // Sometimes the next batch starts before this one's end: offsets were not committed.
      start = random() < 0.3 ? Math.max(start + 1, end - Math.floor(random() * 200)) : end;
    }
    expect(redone).toBeGreaterThan(0);
    await expectModelled(stream);
  });
});
