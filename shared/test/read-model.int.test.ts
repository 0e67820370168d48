import { freshDatabase } from "@million-rps/local/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCursor } from "../src/cursor";
import { microsOfTimestamp } from "../src/position";
import { queryCommandJson, queryTodoJson, queryTodoPage, queryTodoStates } from "../src/read-model";
import type { Todo } from "../src/todo";

let pool: pg.Pool;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await freshDatabase(), max: 2 });
  // 25 rows; 5 share one created_at so the id tie-break is exercised.
  await pool.query(`
    INSERT INTO todos (id, title, user_id, created_at, updated_at)
    SELECT gen_random_uuid(), 'todo ' || g, 'u' || (g % 3),
           CASE WHEN g <= 5 THEN timestamptz '2026-01-01 00:00:00.123456+00'
                ELSE timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second' END,
           now()
    FROM generate_series(1, 25) g`);
});

afterAll(async () => {
  await pool.end();
});

describe("queryTodoPage against real Postgres", () => {
  it("walks every row once, newest first, with exact keyset cursors", async () => {
    const seen: Todo[] = [];
    let cursor = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await queryTodoPage(pool, 7, cursor);
      const rows = JSON.parse(page.json) as Todo[];
      seen.push(...rows);
      if (page.next === null) break;
      cursor = decodeCursor(page.next);
      expect(cursor).not.toBeNull();
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen.map((t) => t.id)).size).toBe(25);
    const order = seen.map((t) => `${t.created_at}|${t.id}`);
    expect(order).toEqual([...order].sort().reverse());
    expect(seen[0]?.created_at).toBe("2026-01-01T00:00:25.000000Z");
    expect(seen.at(-1)?.created_at).toBe("2026-01-01T00:00:00.123456Z");
    expect(Object.keys(seen[0] ?? {}).sort()).toEqual(
      ["completed", "created_at", "description", "id", "title", "updated_at", "user_id"].sort(),
    );
  });

  it("renders compact JSON, byte for byte what JSON.stringify would (every byte is served millions of times)", async () => {
    const page = await queryTodoPage(pool, 5, null);
    expect(page.json).toBe(JSON.stringify(JSON.parse(page.json)));
    const first = (JSON.parse(page.json) as Todo[])[0];
    const one = await queryTodoJson(pool, first?.id ?? "");
    expect(one).toBe(JSON.stringify(first));
    // Field order is the seed's: id, title, description, completed, user_id, created_at, updated_at.
    expect(Object.keys(first ?? {})).toEqual([
      "id",
      "title",
      "description",
      "completed",
      "user_id",
      "created_at",
      "updated_at",
    ]);
  });

  it("ends with next = null on an exact last page and on an empty table page", async () => {
    const all = await queryTodoPage(pool, 25, null);
    expect(all.next).not.toBeNull(); // a full page cannot know it is the last
    const cursor = decodeCursor(all.next ?? "");
    const after = await queryTodoPage(pool, 25, cursor);
    expect(after).toEqual({
      json: "[]",
      next: null,
      ids: [],
      range: { low: null, high: { micros: Number(cursor?.createdAtMicros), id: cursor?.id } },
    });
  });

  it("says which todos a page shows and which positions it covers", async () => {
    const first = await queryTodoPage(pool, 10, null);
    const rows = JSON.parse(first.json) as Todo[];
    expect(first.ids).toEqual(rows.map((t) => t.id));
    const last = decodeCursor(first.next ?? "");
    // A full first page covers [its last todo, +inf); its next page starts below it.
    expect(first.range).toEqual({
      low: { micros: Number(last?.createdAtMicros), id: last?.id },
      high: null,
    });
    const second = await queryTodoPage(pool, 10, last);
    expect(second.range.high).toEqual(first.range.low);
    const states = await queryTodoStates(pool, [
      rows[0]?.id ?? "",
      "00000000-0000-4000-8000-000000000000",
    ]);
    expect(states[0]).toMatchObject({
      id: rows[0]?.id,
      json: expect.stringContaining(rows[0]?.id ?? ""),
    });
    expect(states[0]?.position?.micros).toBe(microsOfTimestamp(rows[0]?.created_at ?? ""));
    expect(states[1]).toEqual({
      id: "00000000-0000-4000-8000-000000000000",
      position: null,
      json: null,
    });
  });

  it("reads single todos and command outcomes", async () => {
    const first = JSON.parse((await queryTodoPage(pool, 1, null)).json) as Todo[];
    const id = first[0]?.id ?? "";
    expect(JSON.parse((await queryTodoJson(pool, id)) ?? "null")).toEqual(first[0]);
    expect(await queryTodoJson(pool, "00000000-0000-4000-8000-000000000000")).toBeNull();
    await pool.query(
      `INSERT INTO commands (command_id, todo_id, actor, type, status, reason, issued_at)
       VALUES ('11111111-1111-4111-8111-111111111111', $1, 'u1', 'update', 'rejected', 'forbidden', now())`,
      [id],
    );
    const cmd = JSON.parse(
      (await queryCommandJson(pool, "11111111-1111-4111-8111-111111111111")) ?? "null",
    );
    expect(cmd).toMatchObject({
      status: "rejected",
      reason: "forbidden",
      todo_id: id,
      type: "update",
    });
  });
});
