import { type CommandEnvelope, isUuid } from "@million-rps/shared";
import type { Pool, QueryConfig } from "pg";
import { CommandDataError, classifyPgError, DatabaseSetupError } from "./failures";
import type { CommandRecord } from "./intake";
import { plainArray, textArray } from "./pg-arrays";

/**
 * A valid command the database refused is dead-lettered and recorded as `rejected` /
 * `invalid`, so that GET /commands/:id ends instead of answering "pending" forever.
 *
 * Poison (bytes `parseCommand` refuses) is only dead-lettered, never recorded, even
 * when a command id can be read from it: a corrupted or foreign copy of a real
 * command would otherwise take that command's id, and the real one, arriving later
 * or on another partition, would be skipped as a duplicate: a lost write. It also
 * keeps poison from a newer writer (a rolling deploy) replayable after the upgrade.
 */
export interface InvalidCommand {
  command_id: string;
  /** NULL only when Postgres refused these fields too, and the id was recorded alone. */
  todo_id: string | null;
  actor: string | null;
  type: CommandEnvelope["type"] | null;
  issued_at: string | null;
}

/** A command the database refused: everything about it is known. */
function refusedCommand(c: CommandEnvelope): InvalidCommand {
  const { command_id, todo_id, actor, type, issued_at } = c;
  return { command_id, todo_id, actor, type, issued_at };
}

/**
 * The command id of a poison record's bytes, for the dead-letter log line only: when
 * they are a JSON object whose `command_id` is a UUID. Nothing of it is recorded.
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
  const id = (raw as { command_id?: unknown }).command_id;
  return isUuid(id) ? id : null;
}

/** The commands a slice's database refused, as rows to record, in offset order. */
export function invalidCommands(refused: readonly CommandRecord[]): InvalidCommand[] {
  return [...refused]
    .sort((a, b) => (BigInt(a.record.offset) < BigInt(b.record.offset) ? -1 : 1))
    .map((r) => refusedCommand(r.command));
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
  /** Distinct ids that already had a row (a replay of the slice). */
  alreadyRecorded: number;
}

/**
 * Records the rows in one statement (first occurrence of an id wins). A refused
 * command may be refused again here for the very field that broke it (an actor
 * Postgres cannot store, an issued_at it cannot read): then each row is recorded on
 * its own, and a row refused again is recorded by its id alone, which always fits.
 * Transient errors are thrown classified, for the caller's retry loop.
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
  let recorded = 0;
  for (const row of unique) recorded += await recordAlone(pool, row);
  return result(recorded);
}

/** One row, whole if Postgres takes it, else by its id alone. */
async function recordAlone(pool: Pool, row: InvalidCommand): Promise<number> {
  try {
    return await insert(pool, [row]);
  } catch (err) {
    if (!(err instanceof CommandDataError)) throw err;
  }
  const idOnly = {
    command_id: row.command_id,
    todo_id: null,
    actor: null,
    type: null,
    issued_at: null,
  };
  try {
    return await insert(pool, [idOnly]);
  } catch (err) {
    if (!(err instanceof CommandDataError)) throw err;
    // A validated UUID and constants: only a schema without migration 003 refuses them.
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
