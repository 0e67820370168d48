import type { CommandEnvelope } from "@million-rps/shared";
import type { Pool } from "pg";
import { type AppliedChange, type ApplyResult, applyBatch } from "./apply";
import { CommandDataError } from "./failures";
import type { WorkerMetrics } from "./metrics";
import type { RecentCommands } from "./recent-commands";

export interface ApplyQueueOptions {
  pool: Pool;
  recent: RecentCommands;
  /** Most commands in one statement. */
  batchSize: number;
  /** Transactions in flight at once (WORKER_CONCURRENCY). */
  concurrency: number;
  metrics: WorkerMetrics;
  /** Called after a transaction that changed todos committed, with what it changed. */
  onChanged: (changes: readonly AppliedChange[]) => void;
}

interface Submission {
  commands: readonly CommandEnvelope[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit across partitions. Every partition's handler submits its slice and
 * waits; slices that are waiting together go into one statement (up to batchSize
 * commands), with at most `concurrency` in flight. At low rates a fetch brings a few
 * commands for each of many partitions: this turns a dozen tiny transactions into
 * one. Merging is safe because partitions hold disjoint todos (the key is the todo
 * id) and each handler submits its next slice only after the previous one committed.
 */
export class ApplyQueue {
  private readonly waiting: Submission[] = [];
  private running = 0;
  private pumpScheduled = false;

  constructor(private readonly o: ApplyQueueOptions) {}

  /** Resolves once the commands are committed; rejects with the error of their own batch. */
  submit(commands: readonly CommandEnvelope[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ commands, resolve, reject });
      // Start on the next turn, so the slices the other partitions submit meanwhile ride along.
      if (!this.pumpScheduled) {
        this.pumpScheduled = true;
        setImmediate(() => {
          this.pumpScheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.running < this.o.concurrency && this.waiting.length > 0) {
      const group = this.takeGroup();
      this.running++;
      void this.run(group).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private takeGroup(): Submission[] {
    const group: Submission[] = [];
    let size = 0;
    while (this.waiting.length > 0) {
      const next = this.waiting[0] as Submission;
      if (group.length > 0 && size + next.commands.length > this.o.batchSize) break;
      group.push(next);
      size += next.commands.length;
      this.waiting.shift();
    }
    return group;
  }

  private async run(group: Submission[]): Promise<void> {
    try {
      await this.apply(group.flatMap((s) => s.commands));
      for (const s of group) s.resolve();
    } catch (err) {
      if (err instanceof CommandDataError && group.length > 1) {
        // One slice holds data Postgres refuses: apply each alone, so only that one fails.
        for (const s of group) await this.apply(s.commands).then(s.resolve, s.reject);
      } else {
        for (const s of group) s.reject(err);
      }
    }
  }

  private async apply(commands: readonly CommandEnvelope[]): Promise<ApplyResult> {
    const started = performance.now();
    const result = await applyBatch(this.o.pool, commands, this.o.recent);
    const m = this.o.metrics;
    m.applySeconds.observe((performance.now() - started) / 1000);
    m.batches.inc();
    m.commands.inc({ outcome: "applied" }, result.applied);
    m.commands.inc({ outcome: "rejected_forbidden" }, result.forbidden);
    m.commands.inc({ outcome: "rejected_not_found" }, result.notFound);
    m.commands.inc({ outcome: "duplicate" }, result.duplicates);
    if (result.redone) m.redone.inc();
    if (result.changes.length > 0) this.o.onChanged(result.changes);
    return result;
  }
}
