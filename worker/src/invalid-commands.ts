import { COMMAND_VERSION, type CommandEnvelope, isUuid } from "@million-rps/shared";
import type { Pool, QueryConfig } from "pg";
import { CommandDataError, classifyPgError, DatabaseSetupError } from "./failures";
import type { CommandRecord, PoisonRecord } from "./intake";
import { plainArray, textArray } from "./pg-arrays";

/**
 * Dead-lettered commands are recorded as `rejected` / `invalid`, so that
 * GET /commands/:id ends instead of answering "pending" forever. What the worker
 * could not read stays NULL (migration 003).
 */
export interface InvalidCommand {
  command_id: string;
  todo_id: string | null;
  actor: string | null;
  type: CommandEnvelope["type"] | null;
  issued_at: string | null;
}

/** A command the database refused: everything about it is known. */
export function refusedCommand(c: CommandEnvelope): InvalidCommand {
  const { command_id, todo_id, actor, type, issued_at } = c;
  return { command_id, todo_id, actor, type, issued_at };
}

/**
 * The command id of a record's bytes, best effort: only when they are a JSON object
 * of this envelope version whose `command_id` is a UUID. Nothing else of a message
 * that failed validation is trusted. Another version is not recorded: it may be a
 * newer writer's command during a rolling deploy, to replay once workers read it.
 */
export function readableCommandId(value: Buffer | null): string | null {
  if (value === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(value.toString("utf8"));
  } catch {
    return null;
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null;
  const { v, command_id: id } = raw as { v?: unknown; command_id?: unknown };
  return v === COMMAND_VERSION && isUuid(id) ? id : null;
}

/** A poison message: its id alone, or null (then it is only dead-lettered). */
export function poisonCommand(value: Buffer | null): InvalidCommand | null {
  const id = readableCommandId(value);
  if (id === null) return null;
  return { command_id: id, todo_id: null, actor: null, type: null, issued_at: null };
}

/**
 * What a slice dead-lettered, as rows to record, in offset order: poison with a
 * readable id, and the commands the database refused.
 */
export function invalidCommands(
  poison: readonly PoisonRecord[],
  refused: readonly CommandRecord[],
): InvalidCommand[] {
  const rows: { offset: bigint; row: InvalidCommand }[] = [];
  for (const p of poison) {
    const row = poisonCommand(p.record.value);
    if (row !== null) rows.push({ offset: BigInt(p.record.offset), row });
  }
  for (const r of refused) {
    rows.push({ offset: BigInt(r.record.offset), row: refusedCommand(r.command) });
  }
  return rows.sort((a, b) => (a.offset < b.offset ? -1 : 1)).map((x) => x.row);
}

/** One statement for any number of rows; an id already recorded keeps its row (a replay). */
function recordQuery(rows: readonly InvalidCommand[]): QueryConfig {
  return {
    name: "worker-record-invalid",
    text: `INSERT INTO commands (command_id, todo_id, actor, type, status, reason, issued_at)
      SELECT id, todo, actor, type, 'rejected', 'invalid', issued
      FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[])
        AS r(id, todo, actor, type, issued)
      ON CONFLICT (command_id) DO NOTHING`,
    values: [
      plainArray(rows.map((r) => r.command_id)),
      textArray(rows.map((r) => r.todo_id)),
      textArray(rows.map((r) => r.actor)),
      textArray(rows.map((r) => r.type)),
      textArray(rows.map((r) => r.issued_at)),
    ],
  };
}

export interface RecordResult {
  /** Rows written now. */
  recorded: number;
  /** Distinct ids that already had a row (a replay, or an applied command's corrupted copy). */
  alreadyRecorded: number;
}

/**
 * Records the rows in one statement (first occurrence of an id wins).
 * A refused command may be refused again here for the very field that broke it (an
 * actor Postgres cannot store, an issued_at it cannot read), so on a data error the
 * rows are recorded with their ids alone, which always fit. Transient errors are
 * thrown classified, for the caller's retry loop.
 */
export async function recordInvalid(
  pool: Pool,
  rows: readonly InvalidCommand[],
): Promise<RecordResult> {
  const byId = new Map<string, InvalidCommand>();
  for (const r of rows) if (!byId.has(r.command_id)) byId.set(r.command_id, r);
  const unique = [...byId.values()];
  const result = (recorded: number) => ({ recorded, alreadyRecorded: unique.length - recorded });
  if (unique.length === 0) return result(0);
  try {
    return result(await insert(pool, unique));
  } catch (err) {
    if (!(err instanceof CommandDataError)) throw err;
  }
  const idsOnly = unique.map((r) => ({
    ...r,
    todo_id: null,
    actor: null,
    type: null,
    issued_at: null,
  }));
  try {
    return result(await insert(pool, idsOnly));
  } catch (err) {
    if (!(err instanceof CommandDataError)) throw err;
    // Validated UUIDs and constants: only a schema without migration 003 refuses them.
    throw new DatabaseSetupError(
      `cannot record rejected/invalid commands (is migration 003 applied?): ${err.message}`,
      { cause: err },
    );
  }
}

async function insert(pool: Pool, rows: readonly InvalidCommand[]): Promise<number> {
  try {
    const result = await pool.query(recordQuery(rows));
    return result.rowCount ?? 0;
  } catch (err) {
    throw classifyPgError(err);
  }
}
