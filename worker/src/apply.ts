import {
  type CommandEnvelope,
  microsOfTimestamp,
  type Position,
  type TodoChange,
} from "@million-rps/shared";
import type { Pool, PoolClient } from "pg";
import { anyExistsQuery, currentQuery, recordedQuery, WRITE_SQL } from "./apply-sql";
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
  /**
   * Every todo the batch changed, with its position now (null: gone): what the cache
   * must refresh. Also the todos of commands found already recorded by someone else
   * (a commit whose acknowledgement was lost, a crashed worker's redelivery): their
   * change may never have been published, so it is published again.
   */
  changes: AppliedChange[];
}

/** A change as the worker knows it: also whether the todo existed before (its answers may be cached). */
export interface AppliedChange extends TodoChange {
  readonly existed: boolean;
  /**
   * Its position before the batch, when known: for a delete, where the pages that
   * showed it are (`position` is null then). Positions never move, so for any
   * other change it is `position` or null.
   */
  readonly was: Position | null;
}

/**
 * How much a batch reads before folding. `optimistic` (the common case) assumes that
 * no command was recorded before unless this process remembers recording it, and
 * that a todo whose first command is a create does not exist yet; so it reads only
 * the todos that updates and deletes need. Each assumption is checked by the write
 * (the commands and todos primary keys) or by one existence probe; when one fails,
 * nothing was written and the batch is redone `careful`ly, reading everything.
 */
type Mode = "optimistic" | "careful";

/** An optimistic assumption did not hold; the batch is redone carefully. Never escapes. */
class AssumptionFailed extends Error {
  override name = "AssumptionFailed";
}

interface Applied {
  result: ApplyResult;
  /** Every command id of the batch now known to be recorded (committed). */
  recordedIds: string[];
}

/**
 * Applies commands (in stream order): at most two reads, then one write statement
 * that commits atomically. The reads need no transaction of their own: every fact the
 * fold took from them is re-checked by that statement (see WRITE_SQL).
 */
export async function applyBatch(
  pool: Pool,
  commands: readonly CommandEnvelope[],
  recent: RecentCommands = new RecentCommands(0),
): Promise<ApplyResult> {
  let applied: Applied;
  let redone = false;
  try {
    applied = await withClient(pool, (c) => attempt(c, commands, "optimistic", recent));
  } catch (err) {
    if (!(err instanceof AssumptionFailed)) throw err;
    applied = await withClient(pool, (c) => attempt(c, commands, "careful", recent));
    redone = true;
  }
  recent.remember(applied.recordedIds);
  return { ...applied.result, redone };
}

async function withClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
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
    return await work(client);
  } catch (err) {
    failed = true;
    throw err instanceof AssumptionFailed ? err : classifyPgError(err);
  } finally {
    client.off("error", onLost);
    // A connection that saw an error may be broken: drop it rather than hand it on.
    client.release(failed);
  }
}

async function attempt(
  client: PoolClient,
  commands: readonly CommandEnvelope[],
  mode: Mode,
  recent: RecentCommands,
): Promise<Applied> {
  const recorded = new Set<string>();
  if (mode === "careful") {
    const ids = [...new Set(commands.map((c) => c.command_id))];
    const rows = await client.query<{ id: string }>(recordedQuery(plainArray(ids)));
    for (const r of rows.rows) recorded.add(r.id);
  } else {
    for (const c of commands) if (recent.has(c.command_id)) recorded.add(c.command_id);
  }
  const assumedAbsent = mode === "careful" ? new Set<string>() : createdFirst(commands, recorded);
  const lookIn = [...new Set(commands.map((c) => c.todo_id))].filter(
    (id) => !assumedAbsent.has(id),
  );
  const current =
    lookIn.length === 0 ? [] : (await client.query<TodoRow>(currentQuery(plainArray(lookIn)))).rows;
  const before = new Map(current.map((r) => [r.id, r]));
  const lookup = (id: string) => before.get(id) ?? null;

  const fold = foldCommands(commands, lookup, (id) => recorded.has(id));
  if (mode === "optimistic") await probeVanished(client, fold, assumedAbsent);
  await write(client, fold, lookup, mode);

  const result: ApplyResult = {
    applied: 0,
    forbidden: 0,
    notFound: 0,
    duplicates: fold.duplicates,
    redone: false,
    changes: changedTodos(commands, fold, lookup, mode === "careful" ? recorded : null),
  };
  for (const r of fold.recorded) {
    if (r.result.status === "applied") result.applied++;
    else if (r.result.reason === "forbidden") result.forbidden++;
    else result.notFound++;
  }
  return { result, recordedIds: [...recorded, ...fold.recorded.map((r) => r.command.command_id)] };
}

/**
 * The todos whose state the batch changed, and in a careful pass also those of
 * commands that were already in the table: the state found is theirs to publish.
 */
function changedTodos(
  commands: readonly CommandEnvelope[],
  fold: Fold,
  before: (id: string) => TodoRow | null,
  recordedBefore: ReadonlySet<string> | null,
): AppliedChange[] {
  const changes: AppliedChange[] = [];
  const listed = new Set<string>();
  const positionOf = (row: TodoRow | null): Position | null =>
    row === null ? null : { micros: microsOfTimestamp(row.created_at), id: row.id };
  const add = (id: string, row: TodoRow | null, existed: boolean, prior: TodoRow | null) => {
    listed.add(id);
    changes.push({ id, position: positionOf(row), existed, was: positionOf(prior) });
  };
  for (const [id, after] of fold.after) {
    const prior = before(id);
    if (after !== prior) add(id, after, prior !== null, prior);
  }
  if (recordedBefore !== null) {
    for (const c of commands) {
      if (recordedBefore.has(c.command_id) && !listed.has(c.todo_id)) {
        // What the lost commit did is unknown: its answers may be cached anywhere.
        const now = fold.after.has(c.todo_id)
          ? (fold.after.get(c.todo_id) ?? null)
          : before(c.todo_id);
        add(c.todo_id, now, true, before(c.todo_id));
      }
    }
  }
  return changes;
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

/**
 * Created and deleted within the batch: no write would notice that a todo with
 * that id existed all along, so ask before writing.
 */
async function probeVanished(client: PoolClient, fold: Fold, assumedAbsent: ReadonlySet<string>) {
  const vanished = [...assumedAbsent].filter((id) => fold.after.get(id) === null);
  if (vanished.length === 0) return;
  const found = await client.query(anyExistsQuery(plainArray(vanished)));
  if ((found.rowCount ?? 0) > 0) throw new AssumptionFailed();
}

async function write(
  client: PoolClient,
  fold: Fold,
  lookup: (id: string) => TodoRow | null,
  mode: Mode,
): Promise<void> {
  const plan = planWrites(fold, lookup);
  if (plan.recorded.length === 0) return; // only duplicates: nothing to write
  const values = [
    ...commandColumns(plan.recorded),
    ...todoColumns(plan.inserts),
    ...todoColumns(plan.updates.map((u) => u.row)),
    plainArray(plan.updates.map((u) => u.expectedVersion)),
    plainArray(plan.deletes.map((d) => d.id)),
    plainArray(plan.deletes.map((d) => d.expectedVersion)),
    plan.updates.length,
    plan.deletes.length,
  ];
  await client.query({ name: "worker-write", text: WRITE_SQL, values }).catch((err: unknown) => {
    // A command or todo id that exists although this batch assumed it new: in the
    // optimistic pass a wrong assumption (redo carefully), else another writer (retry).
    const e = err as { code?: string; constraint?: string };
    const exists =
      e.code === "23505" && ["commands_pkey", "todos_pkey"].includes(e.constraint ?? "");
    if (!exists) throw err;
    if (mode === "optimistic") throw new AssumptionFailed();
    throw new ConcurrentApplyError(`${e.constraint}: another writer got there first`, {
      cause: err,
    });
  });
}
