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
import { CachedPages } from "./cached-pages";
import type { WorkerMetrics } from "./metrics";

export interface ChangePublisherOptions {
  pool: Pool;
  redis: Redis;
  keys: CacheKeys;
  hotPages: readonly HotPage[];
  ttlSec: number;
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
 * Redis (or Postgres) failure here never holds a partition. Only the worker that
 * holds the publisher lease publishes, for every worker's commits (change-relay.ts).
 */
export class ChangePublisher {
  private readonly hot: HotPages;
  private readonly cursorPages: CachedPages;

  constructor(private readonly o: ChangePublisherOptions) {
    this.hot = new HotPages(o.hotPages, o.keys);
    this.cursorPages = new CachedPages({ ...o, hot: this.hot, max: o.cachedPagesMax });
  }

  /**
   * One publication (change-relay.ts calls it while this worker publishes for the
   * fleet; tests call it directly). Returns the generation.
   */
  async publishOnce(changes: readonly AppliedChange[], reset = false): Promise<number> {
    try {
      return await this.publish(changes, reset);
    } catch (err) {
      // Redis may have lost what we wrote: write every hot page again next time.
      this.hot.forget();
      throw err;
    }
  }

  private async publish(changes: readonly AppliedChange[], reset: boolean): Promise<number> {
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
