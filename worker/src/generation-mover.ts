import {
  allocateGeneration,
  type CacheKeys,
  decodeCursor,
  encodePageEntry,
  type Logger,
  publishGeneration,
  queryTodoPage,
  type TodoPage,
} from "@million-rps/shared";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import { backoffMs, pause } from "./backoff";
import type { HotPage } from "./config";
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
    const { redis, keys, ttlSec } = this.o;
    const generation = await allocateGeneration(redis, keys);
    const pages = await this.readHotPages();
    const write = redis.multi();
    for (const { limit, cursor, page } of pages) {
      write.set(keys.page(generation, limit, cursor), encodePageEntry(page), "EX", ttlSec);
    }
    const results = await write.exec();
    const failed = results?.find(([err]) => err !== null)?.[0];
    if (results === null || failed) throw failed ?? new Error("Redis discarded the page writes");
    const published = await publishGeneration(redis, keys, generation);
    this.o.metrics.generation.set(generation);
    this.o.metrics.generationSeconds.observe((performance.now() - started) / 1000);
    this.o.log.debug("generation moved", { generation, published, pages: pages.length });
    return generation;
  }

  private async readHotPages(): Promise<
    { limit: number; cursor: string | null; page: TodoPage }[]
  > {
    const out: { limit: number; cursor: string | null; page: TodoPage }[] = [];
    for (const { limit, pages } of this.o.hotPages) {
      let cursor: string | null = null;
      for (let i = 0; i < pages; i++) {
        const page = await queryTodoPage(
          this.o.pool,
          limit,
          cursor === null ? null : decodeCursor(cursor),
        );
        out.push({ limit, cursor, page });
        if (page.next === null) break;
        cursor = page.next;
      }
    }
    return out;
  }
}
