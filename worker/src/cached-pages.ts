import {
  type CacheKeys,
  type EntryWrite,
  encodePage,
  existingKeys,
  findIndexedPages,
  type HotPages,
  type IndexedPage,
  pagesHolding,
  queryTodoPage,
} from "@million-rps/shared";
import type { Redis } from "ioredis";
import type { Pool } from "pg";
import type { AppliedChange } from "./apply";
import type { WorkerMetrics } from "./metrics";

export interface CachedPagesOptions {
  pool: Pool;
  redis: Redis;
  keys: CacheKeys;
  /** The hot walk: its pages are read again by HotPages, not here. */
  hot: HotPages;
  /** Most pages read again per publication; the rest are left to their readers. */
  max: number;
  metrics: WorkerMetrics;
}

/** Cached pages looked at per changed position, nearest first (page-index.ts). */
const PAGES_PER_POSITION = 4;
/** Pages read from Postgres at once: the partitions' transactions share the pool. */
const READS_IN_FLIGHT = 4;

/**
 * The cursor pages a reader cached that a change lands in (an update, a delete, or
 * a create older than a cached cursor), found through the page index and read again
 * once for the fleet, to be written over their entries before the change set goes
 * out: their readers then read them back from L2 instead of one of them querying
 * Postgres and compressing while the others wait on its lock. The change set waits
 * for them, hence `max`. Best effort: a page the index misses (see page-index.ts), or
 * one past `max`, is refreshed by its readers as before.
 */
export class CachedPages {
  constructor(private readonly o: CachedPagesOptions) {}

  /** The cached pages the changes land in, read again, as L2 writes stamped `stamp`. */
  async read(changes: readonly AppliedChange[], stamp: number): Promise<EntryWrite[]> {
    const chosen = await this.find(changes);
    const out: EntryWrite[] = [];
    for (let i = 0; i < chosen.length; i += READS_IN_FLIGHT) {
      const reads = chosen.slice(i, i + READS_IN_FLIGHT).map(async (p) => {
        const page = await queryTodoPage(this.o.pool, p.limit, p.decoded);
        return {
          key: p.key,
          ...(await encodePage(p.limit, p.cursor, page, stamp)),
          onlyIfPresent: true,
        };
      });
      out.push(...(await Promise.all(reads)));
    }
    return out;
  }

  private async find(changes: readonly AppliedChange[]): Promise<IndexedPage[]> {
    // A deleted todo is gone from the pages around where it was.
    const positions = changes.flatMap((c) => {
      const at = c.position ?? c.was;
      return at === null ? [] : [at];
    });
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
    this.o.metrics.cachedPagesLeft.inc({}, held.length - chosen.length);
    return chosen;
  }
}
