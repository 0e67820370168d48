import type { CommandEnvelope } from "@million-rps/shared";
import type { Pool, PoolClient } from "pg";
import { ConcurrentApplyError, classifyPgError } from "./failures";
import { foldCommands, type TodoRow } from "./model";
import { commandColumns, planWrites, todoColumns, type WritePlan } from "./write-plan";

const RECORDED_SQL =
  "SELECT command_id::text AS id FROM commands WHERE command_id = ANY($1::uuid[])";

const UTC_MICROS = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const CURRENT_SQL = `
SELECT id::text, title, description, completed, user_id,
       to_char(created_at AT TIME ZONE 'UTC', ${UTC_MICROS}) AS created_at,
       to_char(updated_at AT TIME ZONE 'UTC', ${UTC_MICROS}) AS updated_at,
       version::float8 AS version
FROM todos WHERE id = ANY($1::uuid[])`;

const TODO_ARRAYS = `$1::uuid[], $2::text[], $3::text[], $4::bool[], $5::text[],
  $6::timestamptz[], $7::timestamptz[], $8::bigint[]`;

// ON CONFLICT DO NOTHING: a row that appeared since our read is a concurrent writer;
// the short row count turns it into a retry instead of an overwrite.
const INSERT_SQL = `
INSERT INTO todos (id, title, description, completed, user_id, created_at, updated_at, version)
SELECT * FROM unnest(${TODO_ARRAYS})
ON CONFLICT (id) DO NOTHING`;

const UPDATE_SQL = `
UPDATE todos t SET title = u.title, description = u.description, completed = u.completed,
  user_id = u.user_id, created_at = u.created_at, updated_at = u.updated_at, version = u.version
FROM unnest(${TODO_ARRAYS}, $9::bigint[])
  AS u(id, title, description, completed, user_id, created_at, updated_at, version, expected)
WHERE t.id = u.id AND t.version = u.expected`;

const DELETE_SQL = `
DELETE FROM todos t USING unnest($1::uuid[], $2::bigint[]) AS d(id, expected)
WHERE t.id = d.id AND t.version = d.expected`;

// No ON CONFLICT: if another consumer recorded one of these ids meanwhile, the unique
// violation rolls this transaction back, and the retry skips what it applied.
const RECORD_SQL = `
INSERT INTO commands (command_id, todo_id, actor, type, status, reason, issued_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
  $7::timestamptz[])`;

export interface ApplyResult {
  applied: number;
  forbidden: number;
  notFound: number;
  duplicates: number;
}

/**
 * Applies commands (in stream order) in one transaction: two reads, at most four
 * set-based writes, whatever the batch size. Nothing is written row by row.
 */
export async function applyBatch(
  pool: Pool,
  commands: readonly CommandEnvelope[],
): Promise<ApplyResult> {
  const client = await pool.connect().catch((err: unknown) => {
    throw classifyPgError(err);
  });
  // A checked-out client whose server goes away emits 'error' between queries; without a
  // listener that is an uncaught exception. The next query fails anyway, so just note it.
  let failed = false;
  const onLost = () => {
    failed = true;
  };
  client.on("error", onLost);
  try {
    await client.query("BEGIN");
    const result = await applyInTransaction(client, commands);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    failed = true;
    await client.query("ROLLBACK").catch(() => {});
    throw classifyPgError(err);
  } finally {
    client.off("error", onLost);
    // A connection that saw an error may be broken: drop it rather than hand it on.
    client.release(failed);
  }
}

async function applyInTransaction(
  client: PoolClient,
  commands: readonly CommandEnvelope[],
): Promise<ApplyResult> {
  const commandIds = [...new Set(commands.map((c) => c.command_id))];
  const todoIds = [...new Set(commands.map((c) => c.todo_id))];
  const recordedRows = await client.query<{ id: string }>(RECORDED_SQL, [commandIds]);
  const recorded = new Set(recordedRows.rows.map((r) => r.id));
  const current = await client.query<TodoRow>(CURRENT_SQL, [todoIds]);
  const before = new Map(current.rows.map((r) => [r.id, r]));
  const lookup = (id: string) => before.get(id) ?? null;

  const fold = foldCommands(commands, lookup, (id) => recorded.has(id));
  const plan = planWrites(fold, lookup);
  await writePlan(client, plan);

  const result: ApplyResult = {
    applied: 0,
    forbidden: 0,
    notFound: 0,
    duplicates: fold.duplicates,
  };
  for (const { outcome } of fold.recorded) {
    if (outcome.status === "applied") result.applied++;
    else if (outcome.reason === "forbidden") result.forbidden++;
    else result.notFound++;
  }
  return result;
}

async function writePlan(client: PoolClient, plan: WritePlan): Promise<void> {
  if (plan.inserts.length > 0) {
    const r = await client.query(INSERT_SQL, todoColumns(plan.inserts));
    expectRows("insert", r.rowCount, plan.inserts.length);
  }
  if (plan.updates.length > 0) {
    const expected = plan.updates.map((u) => String(u.expectedVersion));
    const r = await client.query(UPDATE_SQL, [
      ...todoColumns(plan.updates.map((u) => u.row)),
      expected,
    ]);
    expectRows("update", r.rowCount, plan.updates.length);
  }
  if (plan.deletes.length > 0) {
    const r = await client.query(DELETE_SQL, [
      plan.deletes.map((d) => d.id),
      plan.deletes.map((d) => String(d.expectedVersion)),
    ]);
    expectRows("delete", r.rowCount, plan.deletes.length);
  }
  if (plan.recorded.length > 0) {
    await client.query(RECORD_SQL, commandColumns(plan.recorded));
  }
}

function expectRows(what: string, got: number | null, want: number): void {
  if (got !== want) {
    throw new ConcurrentApplyError(
      `${what} touched ${got ?? 0} of ${want} todos: another writer changed them since this batch read them`,
    );
  }
}
