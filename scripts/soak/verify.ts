import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { TodoRecord, Writer } from "./writer";

/** The end-of-soak verdict on writes: every 202 applied exactly once. */
export interface WriteVerdict {
  accepted: number;
  /** Accepted commands with no row in `commands` once the worker drained. */
  lost: string[];
  /** Accepted commands recorded as rejected (none is expected: the soak only touches its own live todos). */
  rejected: { commandId: string; reason: string | null }[];
  /** Todos whose version is above 1 + accepted updates: an update applied twice. */
  doubled: { id: string; expected: number; actual: number }[];
  /** Todos whose version is below it, or that are missing, or still there after an accepted delete. */
  wrongState: { id: string; problem: string }[];
  /** Writes never answered 202 within the deadline; whether the worker applied them anyway. */
  abandoned: { commandId: string; lastStatus: string; applied: boolean }[];
  /** 202s that named another command id than the Idempotency-Key derives. */
  idMismatches: number;
  drainMs: number;
  /** Sampled live todos the read fleet still served differently after the drain. */
  staleReads: { id: string; served: string; expected: string }[];
}

async function waitForDrain(
  db: pg.Pool,
  ids: string[],
): Promise<{ recorded: Set<string>; ms: number }> {
  const t0 = Date.now();
  let recorded = new Set<string>();
  let lastProgress = Date.now();
  // Done when every accepted command is recorded, or nothing moved for a minute.
  while (Date.now() - lastProgress < 60_000) {
    const { rows } = await db.query<{ id: string }>(
      "SELECT command_id::text AS id FROM commands WHERE command_id = ANY($1::uuid[])",
      [ids],
    );
    if (rows.length > recorded.size) lastProgress = Date.now();
    recorded = new Set(rows.map((r) => r.id));
    if (recorded.size === ids.length) break;
    await sleep(500);
  }
  return { recorded, ms: Date.now() - t0 };
}

export function judgeTodo(todo: TodoRecord, row: { title: string; version: number } | undefined) {
  if (todo.deleted) return row === undefined ? null : "still there after an accepted delete";
  if (row === undefined) return "missing: an accepted create was not applied";
  if (row.version < 1 + todo.updates)
    return `version ${row.version} < ${1 + todo.updates}: an accepted update is missing`;
  if (row.version === 1 + todo.updates && row.title !== todo.title)
    return `title "${row.title}", expected "${todo.title}"`;
  return null;
}

export async function verifyWrites(
  databaseUrl: string,
  readUrl: string,
  writer: Writer,
): Promise<WriteVerdict> {
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    const accepted = writer.ops.filter((o) => o.outcome === "accepted");
    const { recorded, ms } = await waitForDrain(
      db,
      accepted.map((o) => o.commandId),
    );
    const all = writer.ops.filter((o) => o.outcome !== "refused").map((o) => o.commandId);
    const { rows: commands } = await db.query<{
      id: string;
      status: string;
      reason: string | null;
    }>(
      "SELECT command_id::text AS id, status, reason FROM commands WHERE command_id = ANY($1::uuid[])",
      [all],
    );
    const byCommand = new Map(commands.map((c) => [c.id, c]));
    const judged = [...writer.todos.values()].filter((t) => !t.uncertain);
    const { rows } = await db.query<{ id: string; title: string; version: number }>(
      "SELECT id::text, title, version::int AS version FROM todos WHERE id = ANY($1::uuid[])",
      [judged.map((t) => t.id)],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const doubled: WriteVerdict["doubled"] = [];
    const wrongState: WriteVerdict["wrongState"] = [];
    for (const todo of judged) {
      const row = byId.get(todo.id);
      if (!todo.deleted && row !== undefined && row.version > 1 + todo.updates)
        doubled.push({ id: todo.id, expected: 1 + todo.updates, actual: row.version });
      const problem = judgeTodo(todo, row);
      if (problem !== null && !doubled.some((d) => d.id === todo.id))
        wrongState.push({ id: todo.id, problem });
    }
    const live = judged.filter((t) => !t.deleted).slice(-50);
    return {
      accepted: accepted.length,
      lost: accepted.filter((o) => !recorded.has(o.commandId)).map((o) => o.commandId),
      rejected: accepted
        .map((o) => byCommand.get(o.commandId))
        .filter((c) => c !== undefined && c.status !== "applied")
        .map((c) => ({ commandId: c?.id ?? "", reason: c?.reason ?? null })),
      doubled,
      wrongState,
      abandoned: writer.ops
        .filter((o) => o.outcome === "abandoned")
        .map((o) => ({
          commandId: o.commandId,
          lastStatus: String(o.lastStatus),
          applied: byCommand.has(o.commandId),
        })),
      idMismatches: writer.ops.filter((o) => o.idMismatch !== undefined).length,
      drainMs: ms,
      staleReads: await staleReads(readUrl, live),
    };
  } finally {
    await db.end();
  }
}

/** The read fleet must converge on the final state: a few seconds' grace, then any difference is stale. */
async function staleReads(
  readUrl: string,
  live: TodoRecord[],
): Promise<WriteVerdict["staleReads"]> {
  let stale: WriteVerdict["staleReads"] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    stale = [];
    for (const todo of live) {
      const res = await fetch(`${readUrl}/todos/${todo.id}`);
      const served =
        res.status === 200 ? ((await res.json()) as { title: string }).title : `HTTP ${res.status}`;
      if (served !== todo.title) stale.push({ id: todo.id, served, expected: todo.title });
    }
    if (stale.length === 0) break;
    await sleep(500);
  }
  return stale;
}
