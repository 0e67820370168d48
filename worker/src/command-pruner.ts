import type { Logger } from "@million-rps/shared/log";
import type { Pool } from "pg";
import { pause } from "./backoff";
import type { WorkerMetrics } from "./metrics";

export interface CommandPrunerOptions {
  pool: Pool;
  /** Records older than this are deleted (GET /commands/:id then answers 404 for them). */
  retentionHours: number;
  /** Rows per DELETE: short statements that never hold many locks or much WAL at once. */
  batch: number;
  intervalMs: number;
  metrics: WorkerMetrics;
  log: Logger;
}

// SKIP LOCKED: several workers may prune at once without waiting on each other.
const PRUNE_SQL = `
DELETE FROM commands WHERE ctid IN (
  SELECT ctid FROM commands
  WHERE recorded_at < now() - $1::int * interval '1 hour'
  LIMIT $2 FOR UPDATE SKIP LOCKED)`;

/**
 * Keeps the `commands` table to a stated window, off the hot path: every
 * `intervalMs`, delete expired records `batch` at a time until none are left. The
 * window must outlast the command topic's retention (7 days by default), so a
 * redelivered command is always recognised as applied.
 */
export class CommandPruner {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(private readonly o: CommandPrunerOptions) {}

  start(): void {
    this.loop ??= (async () => {
      while (!this.stopping.signal.aborted) {
        await pause(this.o.intervalMs, this.stopping.signal);
        if (this.stopping.signal.aborted) break;
        await this.pruneOnce().catch((err: unknown) => {
          this.o.log.warn("pruning command records failed; trying again later", { err });
        });
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  /** Deletes every expired record, a batch at a time; returns how many. */
  async pruneOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await this.o.pool.query(PRUNE_SQL, [
        this.o.retentionHours,
        this.o.batch,
      ]);
      const n = rowCount ?? 0;
      total += n;
      this.o.metrics.commandsPruned.inc({}, n);
      if (n < this.o.batch || this.stopping.signal.aborted) break;
      await pause(20, this.stopping.signal); // let the apply path's statements through
    }
    if (total > 0) {
      this.o.log.info("pruned command records", {
        pruned: total,
        retention_hours: this.o.retentionHours,
      });
    }
    return total;
  }
}
