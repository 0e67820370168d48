import { type CacheKeys, type HotPage, type Logger, refreshGeneration } from "@million-rps/shared";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import { backoffMs, pause } from "./backoff";
import type { WorkerMetrics } from "./metrics";

export interface GenerationMoverOptions {
  pool: Pool;
  redis: Redis;
  keys: CacheKeys;
  hotPages: readonly HotPage[];
  ttlSec: number;
  /** Least time between the starts of two moves: bounds generation churn for readers. */
  minIntervalMs: number;
  log: Logger;
  metrics: WorkerMetrics;
}

/**
 * Moves readers to a new generation after committed batches: allocate N, write
 * the hot pages under N, then publish N. Allocating before reading Postgres is
 * what makes it safe: whichever generation ends up published was read after
 * every commit that asked for a move.
 *
 * Decoupled from the partitions on purpose: the data is committed already, so
 * a Redis (or Postgres) failure here never holds a partition. Requests that
 * arrive during a move (or less than minIntervalMs after the last one started)
 * coalesce into one more move, and a failed move retries with backoff in the
 * background until it succeeds.
 */
export class GenerationMover {
  private requested = false;
  private running: Promise<void> | null = null;
  private readonly stopping = new AbortController();
  private readonly idleWaiters: (() => void)[] = [];
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: GenerationMoverOptions) {}

  /** Asks for a move after a commit; returns at once. */
  request(): void {
    this.requested = true;
    if (this.running === null && !this.stopping.signal.aborted) {
      this.running = this.loop().finally(() => {
        this.running = null;
        for (const wake of this.idleWaiters.splice(0)) wake();
      });
    }
  }

  /** Resolves true once no move is pending, or false after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.running === null) return !this.requested;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const late = new Promise<boolean>((resolve) =>
      setTimeout(() => resolve(false), timeoutMs).unref(),
    );
    return Promise.race([idle, late]);
  }

  /** Stops retrying; a move in progress finishes or fails on its own. */
  stop(): void {
    this.stopping.abort();
  }

  private async loop(): Promise<void> {
    for (let failures = 0; this.requested && !this.stopping.signal.aborted; ) {
      // Commits that arrive while we wait ride along: under load a move every
      // minIntervalMs, not one per batch (each one makes every reader refill).
      const wait = this.lastStart + this.o.minIntervalMs - performance.now();
      if (wait > 0) await pause(wait, this.stopping.signal);
      this.lastStart = performance.now();
      this.requested = false;
      try {
        await this.moveOnce();
        failures = 0;
      } catch (err) {
        this.requested = true;
        failures++;
        this.o.metrics.generationFailures.inc();
        this.o.log.warn("cache generation move failed; retrying", { err, failures });
        await pause(backoffMs(failures), this.stopping.signal);
      }
    }
  }

  /** One move; exposed for tests that want to await it. */
  async moveOnce(): Promise<number> {
    const started = performance.now();
    const { generation, published, pages } = await refreshGeneration({
      redis: this.o.redis,
      db: this.o.pool,
      keys: this.o.keys,
      hotPages: this.o.hotPages,
      ttlSec: this.o.ttlSec,
    });
    this.o.metrics.generation.set(generation);
    this.o.metrics.generationSeconds.observe((performance.now() - started) / 1000);
    this.o.log.debug("generation moved", { generation, published, pages });
    return generation;
  }
}
