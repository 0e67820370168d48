import { testServices } from "@million-rps/local/testing";
import { type CommandEnvelope, encodeCommand } from "@million-rps/shared";
import { Kafka, logLevel, type Message, Partitioners } from "kafkajs";
import type pg from "pg";
import type { CommandResult, TodoRow } from "../../src/model";

/** Produces in order (one send at a time), keyed by todo id as the write API does. */
export async function produce(topic: string, messages: readonly (CommandEnvelope | Message)[]) {
  const kafka = new Kafka({ brokers: testServices().kafkaBrokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1000) {
      await producer.send({
        topic,
        acks: -1,
        messages: messages
          .slice(i, i + 1000)
          .map((m) => ("command_id" in m ? { key: m.todo_id, value: encodeCommand(m) } : m)),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Postgres renders timestamps as RFC 3339 UTC with microseconds; the model keeps issued_at as sent. */
export function canonicalTime(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z$/.exec(iso);
  if (m === null) throw new Error(`test streams use UTC times with at most 6 digits: ${iso}`);
  return `${m[1]}.${(m[2] ?? "").padEnd(6, "0")}Z`;
}

export async function readTodos(pool: pg.Pool): Promise<Map<string, TodoRow>> {
  const { rows } = await pool.query<TodoRow>(`
    SELECT id::text, title, description, completed, user_id,
      to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at,
      to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated_at,
      version::float8 AS version
    FROM todos`);
  return new Map(rows.map((r) => [r.id, r]));
}

export async function readResults(pool: pg.Pool): Promise<Map<string, CommandResult>> {
  const { rows } = await pool.query<{ id: string } & CommandResult>(
    "SELECT command_id::text AS id, status, reason FROM commands",
  );
  return new Map(rows.map(({ id, status, reason }) => [id, { status, reason } as CommandResult]));
}

/** The model's table in the form the database returns it, for an exact comparison. */
export function expectedTodos(model: ReadonlyMap<string, TodoRow>): Map<string, TodoRow> {
  const out = new Map<string, TodoRow>();
  for (const [id, row] of model) {
    out.set(id, {
      ...row,
      created_at: canonicalTime(row.created_at),
      updated_at: canonicalTime(row.updated_at),
    });
  }
  return out;
}

export async function countCommands(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM commands");
  return rows[0]?.n ?? 0;
}
