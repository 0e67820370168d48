/** The worker's statements: each takes whole columns as arrays and touches every row at once. */

export const RECORDED_SQL =
  "SELECT command_id::text AS id FROM commands WHERE command_id = ANY($1::uuid[])";

// Timestamps come back as Postgres text and go back in unchanged: exact, and cheaper than to_char.
export const CURRENT_SQL = `
SELECT id::text, title, description, completed, user_id,
       created_at::text AS created_at, updated_at::text AS updated_at,
       version::float8 AS version
FROM todos WHERE id = ANY($1::uuid[])`;

export const ANY_EXISTS_SQL = "SELECT 1 FROM todos WHERE id = ANY($1::uuid[]) LIMIT 1";

const TODO_ARRAYS = `$1::uuid[], $2::text[], $3::text[], $4::bool[], $5::text[],
  $6::timestamptz[], $7::timestamptz[], $8::bigint[]`;

// A plain insert (cheaper than ON CONFLICT's speculative insertion): a todo that exists
// although this batch read it as absent is a unique violation the caller turns into a
// careful redo or a retry, never an overwrite.
export const INSERT_SQL = `
INSERT INTO todos (id, title, description, completed, user_id, created_at, updated_at, version)
SELECT * FROM unnest(${TODO_ARRAYS})`;

export const UPDATE_SQL = `
UPDATE todos t SET title = u.title, description = u.description, completed = u.completed,
  user_id = u.user_id, created_at = u.created_at, updated_at = u.updated_at, version = u.version
FROM unnest(${TODO_ARRAYS}, $9::bigint[])
  AS u(id, title, description, completed, user_id, created_at, updated_at, version, expected)
WHERE t.id = u.id AND t.version = u.expected`;

export const DELETE_SQL = `
DELETE FROM todos t USING unnest($1::uuid[], $2::bigint[]) AS d(id, expected)
WHERE t.id = d.id AND t.version = d.expected`;

// No ON CONFLICT: a command id recorded before (a redelivery, or another consumer right
// now) is a unique violation that rolls the whole transaction back.
export const RECORD_SQL = `
INSERT INTO commands (command_id, todo_id, actor, type, status, reason, issued_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
  $7::timestamptz[])`;
