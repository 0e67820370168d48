import type { Fold, RecordedCommand, TodoRow } from "./model";
import { plainArray, textArray } from "./pg-arrays";

/**
 * Turns a folded batch into set-based writes. Every write names the version it
 * read, so a concurrent writer (a zombie consumer after a rebalance) makes the
 * row counts come out short and the whole transaction is retried.
 */
export interface WritePlan {
  /** Todos absent before the batch and present after it. */
  inserts: TodoRow[];
  /** Todos present before and changed (or recreated) by the batch. */
  updates: { row: TodoRow; expectedVersion: number }[];
  /** Todos present before and absent after. */
  deletes: { id: string; expectedVersion: number }[];
  /** Results to record in `commands`, one per new command. */
  recorded: RecordedCommand[];
}

export function planWrites(fold: Fold, before: (todoId: string) => TodoRow | null): WritePlan {
  const plan: WritePlan = { inserts: [], updates: [], deletes: [], recorded: fold.recorded };
  for (const [id, after] of fold.after) {
    const prior = before(id);
    if (after === prior) continue; // only rejections (or nothing) happened to this todo
    if (prior === null) {
      if (after !== null) plan.inserts.push(after);
    } else if (after === null) {
      plan.deletes.push({ id, expectedVersion: prior.version });
    } else {
      plan.updates.push({ row: after, expectedVersion: prior.version });
    }
  }
  return plan;
}

/**
 * Array literals for `unnest(...)`, one per column in table order: id, title,
 * description, completed, user_id, created_at, updated_at, version.
 */
export function todoColumns(rows: readonly TodoRow[]): string[] {
  return [
    plainArray(rows.map((r) => r.id)),
    textArray(rows.map((r) => r.title)),
    textArray(rows.map((r) => r.description)),
    plainArray(rows.map((r) => r.completed)),
    textArray(rows.map((r) => r.user_id)),
    textArray(rows.map((r) => r.created_at)),
    textArray(rows.map((r) => r.updated_at)),
    plainArray(rows.map((r) => r.version)),
  ];
}

/** Array literals for `commands`: command_id, todo_id, actor, type, status, reason, issued_at. */
export function commandColumns(recorded: readonly RecordedCommand[]): string[] {
  return [
    plainArray(recorded.map((r) => r.command.command_id)),
    plainArray(recorded.map((r) => r.command.todo_id)),
    textArray(recorded.map((r) => r.command.actor)),
    plainArray(recorded.map((r) => r.command.type)),
    plainArray(recorded.map((r) => r.result.status)),
    textArray(recorded.map((r) => r.result.reason)),
    textArray(recorded.map((r) => r.command.issued_at)),
  ];
}
