import type { Pool, PoolClient } from "pg";
import { encodeCursor, type PageCursor } from "./cursor";
import { type PageRange, type Position, positionOfCursor } from "./position";

type Queryable = Pool | PoolClient;

export const LIMIT_DEFAULT = 100;
export const LIMIT_MAX = 1000;

/** One page of `GET /todos` as Postgres rendered it: the JSON array text, and where the next page starts. */
export interface TodoPage {
  /** The response body: a JSON array of todos, newest first. */
  json: string;
  /** Opaque cursor of the next page, or null on the last page. */
  next: string | null;
  /** Ids on the page, in order: a change to one of them changes the page. */
  ids: readonly string[];
  /** The keys the page covers (see PageRange): changes outside it leave its bytes as they are. */
  range: PageRange;
}

// Postgres renders the JSON itself, so a fill costs one query and no JSON.stringify.
// row_to_json of a projected row is compact (json_build_object and json_agg add spaces
// and newlines), and keeps the column order: the seed's field order.
const UTC_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const TODO_JSON = `row_to_json((SELECT x FROM (SELECT t.id, t.title, t.description, t.completed, t.user_id,
  to_char(t.created_at AT TIME ZONE 'UTC', ${UTC_TEXT}) AS created_at,
  to_char(t.updated_at AT TIME ZONE 'UTC', ${UTC_TEXT}) AS updated_at) x))`;
/** created_at as exact microseconds since the epoch, in text (a bigint does not fit a JS number in general). */
const MICROS = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::bigint::text`;

const PAGE_SQL = `
WITH page AS (
  SELECT * FROM todos t
  WHERE $2::bigint IS NULL
     OR (t.created_at, t.id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::uuid)
  ORDER BY t.created_at DESC, t.id DESC
  LIMIT $1
)
SELECT '[' || coalesce(string_agg(${TODO_JSON}::text, ',' ORDER BY t.created_at DESC, t.id DESC), '') || ']' AS json,
       coalesce(array_agg(t.id::text ORDER BY t.created_at DESC, t.id DESC), '{}') AS ids,
       (SELECT ${MICROS("l.created_at")} FROM page l
         ORDER BY l.created_at ASC, l.id ASC LIMIT 1) AS last_micros,
       (SELECT l.id::text FROM page l ORDER BY l.created_at ASC, l.id ASC LIMIT 1) AS last_id
FROM page t`;

/** Reads one page in keyset order. A full page always carries a `next` cursor. */
export async function queryTodoPage(
  db: Queryable,
  limit: number,
  cursor: PageCursor | null,
): Promise<TodoPage> {
  const { rows } = await db.query<{
    json: string;
    ids: string[];
    last_micros: string | null;
    last_id: string | null;
  }>(PAGE_SQL, [
    limit,
    cursor === null ? null : cursor.createdAtMicros.toString(),
    cursor?.id ?? null,
  ]);
  const row = rows[0];
  const high = cursor === null ? null : positionOfCursor(cursor);
  if (row === undefined) return { json: "[]", next: null, ids: [], range: { low: null, high } };
  const full = row.ids.length === limit && row.last_micros !== null && row.last_id !== null;
  const last = full ? { micros: Number(row.last_micros), id: row.last_id as string } : null;
  const next =
    last === null ? null : encodeCursor({ createdAtMicros: BigInt(last.micros), id: last.id });
  return { json: row.json, next, ids: row.ids, range: { low: last, high } };
}

const ITEM_SQL = `SELECT ${TODO_JSON}::text AS json FROM todos t WHERE t.id = $1`;

/** One todo as JSON text, or null when it does not exist. */
export async function queryTodoJson(db: Queryable, id: string): Promise<string | null> {
  const { rows } = await db.query<{ json: string }>(ITEM_SQL, [id]);
  return rows[0]?.json ?? null;
}

/** A todo as a batch left it: its JSON and position, or absent (deleted, or never created). */
export interface TodoState {
  id: string;
  /** null when no such todo exists (any more). */
  position: Position | null;
  json: string | null;
}

const STATES_SQL = `SELECT t.id::text AS id, ${MICROS("t.created_at")} AS micros, ${TODO_JSON}::text AS json
FROM todos t WHERE t.id = ANY($1::uuid[])`;

/** The current state of each todo in `ids` (in the order given), in one query. */
export async function queryTodoStates(db: Queryable, ids: readonly string[]): Promise<TodoState[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: string; micros: string; json: string }>(STATES_SQL, [ids]);
  const found = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => {
    const row = found.get(id);
    return row === undefined
      ? { id, position: null, json: null }
      : { id, position: { micros: Number(row.micros), id }, json: row.json };
  });
}

/** `limit` exactly as the API accepts it: digits only, 1..1000, no sign, exponent or junk. */
export function parseLimit(raw: string | undefined): number | null {
  if (raw === undefined) return LIMIT_DEFAULT;
  if (raw.length > 4 || !/^[0-9]+$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= LIMIT_MAX ? n : null;
}

const COMMAND_SQL = `SELECT row_to_json((SELECT x FROM (SELECT c.command_id, c.todo_id, c.type, c.status, c.reason,
  to_char(c.recorded_at AT TIME ZONE 'UTC', ${UTC_TEXT}) AS recorded_at) x))::text AS json
FROM commands c WHERE c.command_id = $1`;

/** The recorded outcome of a command as JSON text, or null when the worker has not recorded it. */
export async function queryCommandJson(db: Queryable, commandId: string): Promise<string | null> {
  const { rows } = await db.query<{ json: string }>(COMMAND_SQL, [commandId]);
  return rows[0]?.json ?? null;
}

/** Body for a command the worker has not recorded (yet): the async request-reply "pending". */
export function pendingCommandJson(commandId: string): string {
  return `{"command_id":"${commandId}","status":"pending"}`;
}
