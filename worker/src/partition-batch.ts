import type { Logger } from "@million-rps/shared/log";
import type { EachBatchPayload, Producer } from "kafkajs";
import type { Pool } from "pg";
import type { AppliedOffsets } from "./applied-offsets";
import type { ApplyQueue } from "./apply-queue";
import { backoffMs, pause } from "./backoff";
import { type DeadLetterSource, sendDeadLetters } from "./dead-letters";
import { CommandDataError, DatabaseSetupError, isRetriable } from "./failures";
import { type CommandRecord, type PoisonRecord, slices, takeIn } from "./intake";
import { invalidCommands, readableCommandId, recordInvalid } from "./invalid-commands";
import type { WorkerMetrics } from "./metrics";

export interface PartitionBatchOptions {
  queue: ApplyQueue;
  /** Records dead-lettered commands as rejected / invalid. */
  pool: Pool;
  producer: Producer;
  dlqTopic: string;
  batchSize: number;
  offsets: AppliedOffsets;
  metrics: WorkerMetrics;
  log: Logger;
}

/** The consumer is stopping while a slice waits for a dependency: leave it uncommitted. */
class StopRequested extends Error {
  override name = "StopRequested";
}

type Control = Pick<EachBatchPayload, "heartbeat" | "isRunning">;

/**
 * The kafkajs `eachBatch` handler. Each slice of at most `batchSize` records:
 * poison to the DLQ, commands applied in one transaction, the commands the database
 * refused dead-lettered and recorded as rejected / invalid, then the slice's offsets
 * resolved (committed to Kafka every OFFSET_COMMIT_INTERVAL_MS, and on stop), then
 * a cache generation move requested. Transient failures retry with backoff and
 * heartbeats, so nothing is committed early and the partition is not taken away
 * while Postgres is down.
 */
export function createBatchHandler(o: PartitionBatchOptions) {
  return async function applyPartitionBatch(payload: EachBatchPayload): Promise<void> {
    if (!o.offsets.enter()) return;
    try {
      await applySlices(payload);
    } finally {
      o.offsets.leave();
    }
  };

  async function applySlices(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, commitOffsetsIfNecessary, isStale } = payload;
    const control: Control = {
      heartbeat: payload.heartbeat,
      isRunning: () => payload.isRunning() && !o.offsets.draining,
    };
    const source: DeadLetterSource = { topic: batch.topic, partition: batch.partition };
    const log = o.log.child({ topic: batch.topic, partition: batch.partition });
    for (const records of slices(batch.messages, o.batchSize)) {
      if (!control.isRunning() || isStale()) return;
      const last = records[records.length - 1]?.offset;
      if (last === undefined) continue;
      const intake = takeIn(records);
      const refused: CommandRecord[] = [];
      try {
        await retrying(control, log, () => deadLetter(intake.poison, source, "poison"));
        await applyIsolating(control, log, intake.commands, source, refused);
        // Before the slice's offsets, so a crash in between replays the recording too.
        await retrying(control, log, () => recordRefused(refused, log));
      } catch (err) {
        if (err instanceof StopRequested) return; // not applied: redelivered to whoever runs next
        throw err;
      }
      resolveOffset(last);
      const next = (BigInt(last) + 1n).toString();
      o.offsets.applied(batch.topic, batch.partition, next);
      await commitOffsetsIfNecessary(); // only once OFFSET_COMMIT_INTERVAL_MS has passed
      o.metrics.lag.set(
        { partition: String(batch.partition) },
        Math.max(0, Number(batch.highWatermark) - Number(next)),
      );
      await payload.heartbeat();
    }
  }

  async function deadLetter(poison: PoisonRecord[], source: DeadLetterSource, kind: string) {
    if (poison.length === 0) return;
    await sendDeadLetters(o.producer, o.dlqTopic, poison, source);
    o.metrics.commands.inc({ outcome: "dead_letter" }, poison.length);
    for (const p of poison) {
      const command_id = readableCommandId(p.record.value);
      const fields = { kind, reason: p.reason, command_id, offset: p.record.offset, ...source };
      o.log.warn("dead-lettered", fields);
    }
  }

  /** One statement for the slice; a replay finds the ids recorded and adds nothing. */
  async function recordRefused(refused: CommandRecord[], log: Logger) {
    const rows = invalidCommands(refused);
    if (rows.length === 0) return;
    const { recorded, alreadyRecorded } = await recordInvalid(o.pool, rows);
    o.metrics.commands.inc({ outcome: "rejected_invalid" }, recorded);
    log.info("refused commands recorded as rejected: invalid", {
      recorded,
      already_recorded: alreadyRecorded,
    });
  }

  /**
   * Applies the slice; when Postgres refuses the data of some command, halves the
   * slice until that command stands alone, dead-letters it, and applies the rest
   * in order, collecting it into `refused`. Only this rare path leaves one statement
   * per slice.
   */
  async function applyIsolating(
    control: Control,
    log: Logger,
    commands: CommandRecord[],
    source: DeadLetterSource,
    refused: CommandRecord[],
  ): Promise<void> {
    if (commands.length === 0) return;
    try {
      await retrying(control, log, () => o.queue.submit(commands.map((c) => c.command)));
    } catch (err) {
      if (!(err instanceof CommandDataError)) throw err;
      const [only] = commands;
      if (commands.length === 1 && only !== undefined) {
        const reason = `database refused the command: ${err.message}`;
        await retrying(control, log, () =>
          deadLetter([{ record: only.record, reason }], source, "data"),
        );
        refused.push(only);
        return;
      }
      const half = Math.ceil(commands.length / 2);
      await applyIsolating(control, log, commands.slice(0, half), source, refused);
      await applyIsolating(control, log, commands.slice(half), source, refused);
    }
  }

  /** Runs `step` until it succeeds; retriable failures back off, heartbeating to keep the partition. */
  async function retrying<T>(control: Control, log: Logger, step: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (err) {
        if (!isRetriable(err)) throw err;
        if (!control.isRunning()) throw new StopRequested();
        o.metrics.retries.inc({ error: (err as Error).name });
        const fields = { err, attempt };
        if (err instanceof DatabaseSetupError) log.error("database error; retrying", fields);
        else log.warn("dependency failed; retrying", fields);
        await pause(backoffMs(attempt));
        if (!control.isRunning()) throw new StopRequested();
        await control.heartbeat();
      }
    }
  }
}
