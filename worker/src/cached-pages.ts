import {
  buildEntry,
  type CacheKeys,
  existingKeys,
  findIndexedPages,
  type HotPages,
  type IndexedPage,
  pageIndexEntry,
  pageSubject,
  pagesHolding,
  queryTodoPage,
  releaseFillLock,
  type TodoChange,
  tryFillLock,
  writeEntries,
} from "@million-rps/shared";
import type { Logger } from "@million-rps/shared/log";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { WorkerMetrics } from "./metrics";

export interface CachedPagesOptions {
  pool: Pool;
  redis: Redis;
  keys: CacheKeys;
  /** The hot walk: its pages are read again by HotPages, not here. */
  hot: HotPages;
  ttlSec: number;
  /** Most pages rewritten per publication; the rest are left to their readers. */
  max: number;
  log: Logger;
  metrics: WorkerMetrics;
}

/** A cached cursor page whose fill lock this worker holds until it is rewritten. */
export interface ClaimedPage {
  readonly page: IndexedPage;
  readonly token: string;
}

/** Cached pages looked at per changed position, nearest first (page-index.ts). */
const PAGES_PER_POSITION = 4;
/** Pages read from Postgres at once: the partitions' transactions share the pool. */
const READS_IN_FLIGHT = 2;
/**
 * How long a claim holds a page's fill lock: the read fleet's default FILL_LOCK_MS, as
 * long as a reader waits for the lock's holder before it fills the page itself.
 */
const CLAIM_MS = 2_000;

/**
 * The cursor pages a reader cached that a change lands in (an update, or a create
 * older than a cached cursor), found through the page index and rewritten once for
 * the fleet, so their readers read them back from L2 instead of one of them querying
 * Postgres and compressing. Claimed (their fill locks taken) before the change set
 * goes out and rewritten after it: the change set never waits for them, and a reader
 * that refreshes one meanwhile waits on the lock for the worker's entry, as it would
 * for another reader's fill. Best effort: a page the index misses (see page-index.ts),
 * one a reader is filling already, or one past `max` is refreshed by its readers.
 */
export class CachedPages {
  constructor(private readonly o: CachedPagesOptions) {}

  /** Before the change set: the cached pages the changes land in, locked for the rewrite. */
  async claim(changes: readonly TodoChange[]): Promise<ClaimedPage[]> {
    const positions = changes.flatMap((c) => (c.position === null ? [] : [c.position]));
    if (this.o.max === 0 || positions.length === 0) return [];
    const { redis, keys } = this.o;
    const found = await findIndexedPages(
      redis,
      keys,
      positions.map((p) => p.micros),
      PAGES_PER_POSITION,
    );
    const { pages, junk } = pagesHolding(keys, positions, found);
    const candidates = [...pages].filter(([, p]) => !this.o.hot.holds(p.key));
    const present = await existingKeys(
      redis,
      candidates.map(([, p]) => p.key),
    );
    // Entries that expired leave the index.
    const gone = candidates.filter((_, i) => !present[i]).map(([member]) => member);
    if (gone.length + junk.length > 0) await redis.zrem(keys.pageIndex, ...gone, ...junk);
    const held = candidates.filter((_, i) => present[i]).map(([, p]) => p);
    const chosen = held.slice(0, this.o.max);
    const tokens = await Promise.all(chosen.map((p) => tryFillLock(redis, keys, p.key, CLAIM_MS)));
    const claimed = chosen.flatMap((page, i) => {
      const token = tokens[i];
      return token == null ? [] : [{ page, token }];
    });
    // Past the bound, or a reader is filling it already: its readers refresh it.
    this.o.metrics.cachedPagesLeft.inc({}, held.length - claimed.length);
    return claimed;
  }

  /**
   * After the change set: reads each claimed page again, writes it over its entry
   * stamped `stamp` and lets go of its lock. Never rejects: a page that fails is
   * released, and its readers fill it themselves. Resolves with the pages written.
   */
  async rewrite(claimed: readonly ClaimedPage[], stamp: number): Promise<number> {
    let written = 0;
    for (let i = 0; i < claimed.length; i += READS_IN_FLIGHT) {
      const batch = claimed.slice(i, i + READS_IN_FLIGHT);
      const done = await Promise.all(batch.map((c) => this.rewriteOne(c, stamp)));
      written += done.filter(Boolean).length;
    }
    return written;
  }

  /** Lets go of claims whose change set was never published. */
  release(claimed: readonly ClaimedPage[]): void {
    for (const c of claimed) this.unlock(c);
  }

  private async rewriteOne({ page: p, token }: ClaimedPage, stamp: number): Promise<boolean> {
    try {
      const page = await queryTodoPage(this.o.pool, p.limit, p.decoded);
      this.o.metrics.cachedPagesRead.inc();
      this.o.metrics.cacheQueries.inc();
      const [stored] = await writeEntries(
        this.o.redis,
        this.o.keys,
        [
          {
            key: p.key,
            entry: await buildEntry(stamp, pageSubject(page), page.json),
            onlyIfPresent: true,
            index: pageIndexEntry(p.limit, p.cursor, page.range),
          },
        ],
        this.o.ttlSec,
      );
      return stored !== undefined;
    } catch (err) {
      this.o.log.debug("cached page not rewritten; its readers will fill it", { err, key: p.key });
      return false;
    } finally {
      this.unlock({ page: p, token });
    }
  }

  private unlock({ page, token }: ClaimedPage): void {
    releaseFillLock(this.o.redis, this.o.keys, page.key, token).catch(() => {}); // it expires by itself
  }
}
