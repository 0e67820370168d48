import type { CommandEnvelope } from "@million-rps/shared";
import type { Pool, PoolClient } from "pg";
import {
  ANY_EXISTS_SQL,
  CURRENT_SQL,
  DELETE_SQL,
  INSERT_SQL,
  RECORD_SQL,
  RECORDED_SQL,
  UPDATE_SQL,
} from "./apply-sql";
import { ConcurrentApplyError, classifyPgError } from "./failures";
import { type Fold, foldCommands, type TodoRow } from "./model";
import { plainArray } from "./pg-arrays";
import { RecentCommands } from "./recent-commands";
import { commandColumns, planWrites, todoColumns } from "./write-plan";

export interface ApplyResult {
  applied: number;
  forbidden: number;
  notFound: number;
  duplicates: number;
  /** True when the optimistic attempt found a recorded command or an existing id and was redone. */
  redone: boolean;
}

/**
 * How much a batch reads before folding. `optimistic` (the common case) assumes that
 * no command was recorded before unless this process remembers recording it, and
 * that a todo whose first command is a create does not exist yet; so it reads only
 * the todos that updates and deletes need. Each assumption is checked by a write that
 * fails when it is wrong (the commands primary key, the insert's row count, one
 * existence probe); then the batch is redone `careful`ly, reading everything.
 */
type Mode = "optimistic" | "careful";

/** An optimistic assumption did not hold; the batch is redone carefully. Never escapes. */
class AssumptionFailed extends Error {
  override name = "AssumptionFailed";
}

/** Applies commands (in stream order) in one transaction of set-based statements. */
export async function applyBatch(
  pool: Pool,
  commands: readonly CommandEnvelope[],
  recent: RecentCommands = new RecentCommands(0),
): Promise<ApplyResult> {
  let applied: Applied;
  let redone = false;
  try {
    applied = await inTransaction(pool, (c) => applyIn(c, commands, "optimistic", recent));
  } catch (err) {
    if (!(err instanceof AssumptionFailed)) throw err;
    applied = await inTransaction(pool, (c) => applyIn(c, commands, "careful", recent));
    redone = true;
  }
  recent.remember(applied.recordedIds);
  return { ...applied.result, redone };
}

interface Applied {
  result: ApplyResult;
  /** Every command id of the batch now known to be recorded (committed). */
  recordedIds: string[];
}

async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
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
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    failed = true;
    await client.query("ROLLBACK").catch(() => {});
    throw err instanceof AssumptionFailed ? err : classifyPgError(err);
  } finally {
    client.off("error", onLost);
    // A connection that saw an error may be broken: drop it rather than hand it on.
    client.release(failed);
  }
}

async function applyIn(
  client: PoolClient,
  commands: readonly CommandEnvelope[],
  mode: Mode,
  recent: RecentCommands,
): Promise<Applied> {
  const recorded = new Set<string>();
  if (mode === "careful") {
    const ids = [...new Set(commands.map((c) => c.command_id))];
    const rows = await client.query<{ id: string }>(RECORDED_SQL, [plainArray(ids)]);
    for (const r of rows.rows) recorded.add(r.id);
  } else {
    for (const c of commands) if (recent.has(c.command_id)) recorded.add(c.command_id);
  }
  const assumedAbsent = mode === "careful" ? new Set<string>() : createdFirst(commands, recorded);
  const lookIn = [...new Set(commands.map((c) => c.todo_id))].filter(
    (id) => !assumedAbsent.has(id),
  );
  const current =
    lookIn.length === 0
      ? []
      : (await client.query<TodoRow>(CURRENT_SQL, [plainArray(lookIn)])).rows;
  const before = new Map(current.map((r) => [r.id, r]));
  const lookup = (id: string) => before.get(id) ?? null;

  const fold = foldCommands(commands, lookup, (id) => recorded.has(id));
  await write(client, fold, lookup, mode, assumedAbsent);

  const result = {
    applied: 0,
    forbidden: 0,
    notFound: 0,
    duplicates: fold.duplicates,
    redone: false,
  };
  for (const { outcome } of fold.recorded) {
    if (outcome.status === "applied") result.applied++;
    else if (outcome.reason === "forbidden") result.forbidden++;
    else result.notFound++;
  }
  return { result, recordedIds: [...recorded, ...fold.recorded.map((r) => r.command.command_id)] };
}

/** Todo ids whose first command that will be folded (not a known duplicate) is a create. */
function createdFirst(
  commands: readonly CommandEnvelope[],
  recorded: ReadonlySet<string>,
): Set<string> {
  const first = new Map<string, string>();
  for (const c of commands) {
    if (!recorded.has(c.command_id) && !first.has(c.todo_id)) first.set(c.todo_id, c.type);
  }
  return new Set([...first].filter(([, type]) => type === "create").map(([id]) => id));
}

async function write(
  client: PoolClient,
  fold: Fold,
  lookup: (id: string) => TodoRow | null,
  mode: Mode,
  assumedAbsent: ReadonlySet<string>,
): Promise<void> {
  const plan = planWrites(fold, lookup);
  // An id that exists although this batch assumed it new: in the optimistic pass a
  // wrong assumption (redo carefully), in the careful pass another writer (retry).
  const existed = (constraint: string) => (err: unknown) => {
    const e = err as { code?: string; constraint?: string };
    if (e.code !== "23505" || e.constraint !== constraint) throw err;
    if (mode === "optimistic") throw new AssumptionFailed();
    throw new ConcurrentApplyError(`${constraint}: another writer got there first`, { cause: err });
  };
  // Commands first: a redelivered batch fails here, before any todo is written.
  if (plan.recorded.length > 0) {
    await client.query(RECORD_SQL, commandColumns(plan.recorded)).catch(existed("commands_pkey"));
  }
  if (plan.inserts.length > 0) {
    await client.query(INSERT_SQL, todoColumns(plan.inserts)).catch(existed("todos_pkey"));
  }
  if (mode === "optimistic") {
    // Created and deleted within the batch: nothing was written that would have noticed
    // an existing todo with that id, so ask.
    const vanished = [...assumedAbsent].filter((id) => fold.after.get(id) === null);
    if (
      vanished.length > 0 &&
      (await client.query(ANY_EXISTS_SQL, [plainArray(vanished)])).rowCount
    ) {
      throw new AssumptionFailed();
    }
  }
  if (plan.updates.length > 0) {
    const expected = plainArray(plan.updates.map((u) => u.expectedVersion));
    const rows = todoColumns(plan.updates.map((u) => u.row));
    const r = await client.query(UPDATE_SQL, [...rows, expected]);
    expectRows("update", r.rowCount, plan.updates.length);
  }
  if (plan.deletes.length > 0) {
    const r = await client.query(DELETE_SQL, [
      plainArray(plan.deletes.map((d) => d.id)),
      plainArray(plan.deletes.map((d) => d.expectedVersion)),
    ]);
    expectRows("delete", r.rowCount, plan.deletes.length);
  }
}

function expectRows(what: string, got: number | null, want: number): void {
  if (got !== want) {
    throw new ConcurrentApplyError(
      `${what} touched ${got ?? 0} of ${want} todos: another writer changed them since this batch read them`,
    );
  }
}
