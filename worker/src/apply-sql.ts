/**
 * The worker's statements: each takes whole columns as array literals and touches
 * every row at once. Named, so each connection parses and plans them once.
 */
import type { QueryConfig } from "pg";

export function recordedQuery(commandIds: string): QueryConfig {
  return {
    name: "worker-recorded",
    text: "SELECT command_id::text AS id FROM commands WHERE command_id = ANY($1::uuid[])",
    values: [commandIds],
  };
}

/** Timestamps come back as Postgres text and go back in unchanged: exact, and cheap. */
export function currentQuery(todoIds: string): QueryConfig {
  return {
    name: "worker-current",
    text: `SELECT id::text, title, description, completed, user_id,
             created_at::text AS created_at, updated_at::text AS updated_at,
             version::float8 AS version
           FROM todos WHERE id = ANY($1::uuid[])`,
    values: [todoIds],
  };
}

export function anyExistsQuery(todoIds: string): QueryConfig {
  return {
    name: "worker-any-exists",
    text: "SELECT 1 FROM todos WHERE id = ANY($1::uuid[]) LIMIT 1",
    values: [todoIds],
  };
}

const TODO_COLUMNS = "id, title, description, completed, user_id, created_at, updated_at, version";
const todoArrays = (from: number) =>
  `$${from}::uuid[], $${from + 1}::text[], $${from + 2}::text[], $${from + 3}::bool[],
   $${from + 4}::text[], $${from + 5}::timestamptz[], $${from + 6}::timestamptz[], $${from + 7}::bigint[]`;

/**
 * Every write of a batch in one statement, so it commits atomically in one round trip:
 * record the commands, insert new todos, update and delete existing ones against the
 * version the batch read. A command id or todo id that already exists is a unique
 * violation; a todo changed since the read makes worker_expect raise 40001. Either
 * way nothing of the batch is written. The sub-statements touch disjoint rows.
 *
 * $1-$7 commands, $8-$15 inserts, $16-$23 updates + $24 their expected versions,
 * $25-$26 deletes (id, expected version), $27-$28 the update and delete counts.
 */
export const WRITE_SQL = `
WITH recorded AS (
  INSERT INTO commands (command_id, todo_id, actor, type, status, reason, issued_at)
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::timestamptz[])
), inserted AS (
  INSERT INTO todos (${TODO_COLUMNS}) SELECT * FROM unnest(${todoArrays(8)})
), updated AS (
  UPDATE todos t SET title = u.title, description = u.description, completed = u.completed,
    user_id = u.user_id, created_at = u.created_at, updated_at = u.updated_at, version = u.version
  FROM unnest(${todoArrays(16)}, $24::bigint[])
    AS u(id, title, description, completed, user_id, created_at, updated_at, version, expected)
  WHERE t.id = u.id AND t.version = u.expected
  RETURNING 1
), deleted AS (
  DELETE FROM todos t USING unnest($25::uuid[], $26::bigint[]) AS d(id, expected)
  WHERE t.id = d.id AND t.version = d.expected
  RETURNING 1
)
SELECT worker_expect(
  (SELECT count(*) FROM updated) = $27 AND (SELECT count(*) FROM deleted) = $28,
  'todos changed since this batch read them')`;
