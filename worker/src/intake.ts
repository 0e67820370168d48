import { type CommandEnvelope, parseCommand } from "@million-rps/shared";

/** A record as the consumer hands it over (the fields of a kafkajs message we use). */
export interface IncomingRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

export interface PoisonRecord {
  record: IncomingRecord;
  reason: string;
}

/** A valid command with the record it came in, kept for dead-lettering it unchanged. */
export interface CommandRecord {
  record: IncomingRecord;
  command: CommandEnvelope;
}

export interface Intake {
  /** Valid commands in offset order. */
  commands: CommandRecord[];
  /** Records that can never be applied, in offset order. */
  poison: PoisonRecord[];
}

/** Splits records into commands and poison; `parseCommand` decides what is poison. */
export function takeIn(records: readonly IncomingRecord[]): Intake {
  const intake: Intake = { commands: [], poison: [] };
  for (const record of records) {
    const parsed = parseCommand(record.value);
    if (parsed.ok) intake.commands.push({ record, command: parsed.value });
    else intake.poison.push({ record, reason: parsed.message });
  }
  return intake;
}

/** Consecutive slices of at most `size` records: each one is one transaction. */
export function* slices<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
