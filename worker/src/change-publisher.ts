import { setTimeout as sleep } from "node:timers/promises";
import {
  allocateGeneration,
  buildEntry,
  type CacheKeys,
  type EntryWrite,
  entriesToPush,
  existingKeys,
  type HotPage,
  HotPages,
  itemSubject,
  publishChanges,
  pushHotEntries,
  queryTodoStates,
  writeEntries,
} from "@million-rps/shared";
import type { Logger } from "@million-rps/shared/log";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { AppliedChange } from "./apply";
import { backoffMs, pause } from "./backoff";
import { CachedPages } from "./cached-pages";
import type { WorkerMetrics } from "./metrics";

export interface ChangePublisherOptions {
  pool: Pool;
  redis: Redis;
  keys: CacheKeys;
  hotPages: readonly HotPage[];
  ttlSec: number;
  /** Least time between the starts of two publications: bounds the churn readers see. */
  minIntervalMs: number;
  /** Most cached cursor pages read again per publication; the rest are left to their readers. */
  cachedPagesMax: number;
  /** Bytes of those pages pushed with a publication, beside the hot pages (0: none). */
  cachedPagesPushBytes: number;
  log: Logger;
  metrics: WorkerMetrics;
}

/**
 * Tells the read fleet what committed batches changed. One publication: allocate
 * generation N, read again the hot pages the changes touch, the cursor pages a
 * reader cached that they land in (cached-pages.ts) and the todos that existed
 * before (one query), write them to L2 stamped N (encoded once for the fleet; a
 * cursor page or a todo only over an entry someone cached), push the hot pages to
 * the readers (hot-entries.ts), then publish the changes under N. A reader never
 * learns of N before what reflects it is in Redis, and refreshes only the answers
 * the changes touch: a hot page from the push, the rest mostly from L2.
 *
 * Decoupled from the partitions on purpose: the data is committed already, so a
 * Redis (or Postgres) failure here never holds a partition. Changes that arrive
 * during a publication (or less than minIntervalMs after the last one started)
 * ride along in the next; a failed one keeps its changes and retries with backoff.
 */
export class ChangePublisher {
  /** Changes not yet published, by todo id: the last position wins. */
  private pending = new Map<string, AppliedChange>();
  private resetPending = false;
  private running: Promise<void> | null = null;
  private readonly stopping = new AbortController();
  private readonly idleWaiters: (() => void)[] = [];
  private lastStart = Number.NEGATIVE_INFINITY;
  private readonly hot: HotPages;
  private readonly cursorPages: CachedPages;

  constructor(private readonly o: ChangePublisherOptions) {
    this.hot = new HotPages(o.hotPages, o.keys);
    this.cursorPages = new CachedPages({ ...o, hot: this.hot, max: o.cachedPagesMax });
  }

  /** After a commit: queue what it changed; returns at once. */
  publish(changes: readonly AppliedChange[]): void {
    for (const c of changes) {
      // A todo created and then changed before a publication is still new to readers,
      // and one updated and then deleted was where the update left it.
      const earlier = this.pending.get(c.id);
      this.pending.set(
        c.id,
        earlier === undefined ? c : { ...c, existed: earlier.existed, was: earlier.was ?? c.was },
      );
    }
    this.wake();
  }

  /**
   * Everything readers hold may be stale (this worker just joined its group, and a
   * member that died may have committed a batch it never published): publish a
   * reset, so readers refresh all they hold and L2 entries stamped before it count
   * as stale.
   */
  reset(): void {
    this.resetPending = true;
    this.wake();
  }

  /** Resolves true once nothing is left to publish, or false after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.running === null) return !this.due;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const late = sleep(timeoutMs, false, { ref: false });
    return Promise.race([idle, late]);
  }

  /** Stops retrying; a publication in progress finishes or fails on its own. */
  stop(): void {
    this.stopping.abort();
  }

  private get due(): boolean {
    return this.resetPending || this.pending.size > 0;
  }

  private wake(): void {
    if (this.running === null && !this.stopping.signal.aborted) {
      this.running = this.loop().finally(() => {
        this.running = null;
        for (const wake of this.idleWaiters.splice(0)) wake();
      });
    }
  }

  private async loop(): Promise<void> {
    for (let failures = 0; this.due && !this.stopping.signal.aborted; ) {
      // Commits that arrive while we wait ride along: under load one publication every
      // minIntervalMs, not one per batch.
      const wait = this.lastStart + this.o.minIntervalMs - performance.now();
      if (wait > 0) await pause(wait, this.stopping.signal);
      this.lastStart = performance.now();
      const changes = [...this.pending.values()];
      const reset = this.resetPending;
      this.pending = new Map();
      this.resetPending = false;
      try {
        await this.publishOnce(changes, reset);
        failures = 0;
      } catch (err) {
        // Keep them for the next attempt, behind anything newer for the same todo.
        for (const c of changes) if (!this.pending.has(c.id)) this.pending.set(c.id, c);
        this.resetPending ||= reset;
        // Redis may have lost what we wrote: write every hot page again next time.
        this.hot.forget();
        failures++;
        this.o.metrics.generationFailures.inc();
        this.o.log.warn("cache change publication failed; retrying", { err, failures });
        await pause(backoffMs(failures), this.stopping.signal);
      }
    }
  }

  /** One publication; exposed for tests that want to await it. Returns the generation. */
  async publishOnce(changes: readonly AppliedChange[], reset = false): Promise<number> {
    const started = performance.now();
    const { redis, keys } = this.o;
    const generation = await allocateGeneration(redis, keys);
    // Read after the allocation: whatever ends up in Redis reflects every commit up to N.
    const writes = await this.hot.read(this.o.pool, reset ? "all" : changes, generation);
    const cursorPages = reset ? [] : await this.cursorPages.read(changes, generation);
    const items = await this.cachedTodos(changes, generation);
    const stored = await writeEntries(
      redis,
      keys,
      [...writes, ...cursorPages, ...items],
      this.o.ttlSec,
    );
    // The hot pages, and the todos and cursor pages within the push budget, go to every
    // reader with the publication; the rest are read back by who holds them.
    const push = entriesToPush(stored, {
      hot: new Set(writes.map((w) => w.key)),
      todos: new Set(items.map((w) => w.key)),
      cursor: new Set(cursorPages.map((w) => w.key)),
      budget: this.o.cachedPagesPushBytes,
    });
    await pushHotEntries(redis, keys, push.entries);
    const seq = await publishChanges(redis, keys, { generation, reset, changes });
    const m = this.o.metrics;
    m.generation.set(generation);
    m.generationSeconds.observe((performance.now() - started) / 1000);
    m.changesPublished.inc({}, changes.length);
    m.hotPagesWritten.inc({}, writes.length);
    m.hotPagesPushed.inc({}, push.entries.length - push.cursorPages - push.todos);
    m.cachedPagesPushed.inc({}, push.cursorPages);
    m.cachedPagesRead.inc({}, cursorPages.length);
    m.todoEntriesRead.inc({}, items.length);
    m.todoEntriesPushed.inc({}, push.todos);
    m.cacheQueries.inc({}, writes.length + cursorPages.length + (items.length > 0 ? 1 : 0));
    this.o.log.debug("changes published", {
      generation,
      seq,
      reset,
      changes: changes.length,
      pages: writes.length,
      cursorPages: cursorPages.length,
      pushed: push.entries.length,
    });
    return generation;
  }

  /**
   * The todos that existed before and that a reader cached, as L2 entries stamped N
   * (still written only over an entry that is there): one query per publication instead
   * of one per todo per reader. New todos are left out (nobody holds them; bulk creates
   * must not fill Redis).
   */
  private async cachedTodos(
    changes: readonly AppliedChange[],
    stamp: number,
  ): Promise<EntryWrite[]> {
    const existed = changes.filter((c) => c.existed).map((c) => c.id);
    // Only the ones a reader cached, asked in one round trip: a stream of updates nobody
    // reads costs no query, no encoding and no write per todo.
    const held = await existingKeys(
      this.o.redis,
      existed.map((id) => this.o.keys.item(id)),
    );
    const ids = existed.filter((_, i) => held[i]);
    if (ids.length === 0) return [];
    const states = await queryTodoStates(this.o.pool, ids);
    return Promise.all(
      states.map(async (s) => ({
        key: this.o.keys.item(s.id),
        entry: await buildEntry(stamp, itemSubject(s.id, s.json), s.json ?? ""),
        onlyIfPresent: true,
      })),
    );
  }
}
