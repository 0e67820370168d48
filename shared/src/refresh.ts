import type { Redis } from "ioredis";
import type { Pool, PoolClient } from "pg";
import { buildEntry, type CacheEntry, encodeEntry, pageSubject } from "./cache-entry";
import type { CacheKeys } from "./cache-keys";
import { allocateGeneration, publishChanges, writeEntry } from "./cache-scripts";
import { pageTouched, type TodoChange } from "./change-set";
import { decodeCursor } from "./cursor";
import { pushHotEntries, type StoredEntry } from "./hot-entries";
import { type PageIndexEntry, pageIndexEntry } from "./page-index";
import type { PageRange } from "./position";
import { parseLimit, queryTodoPage, type TodoPage } from "./read-model";

/** A first page refilled whenever a change touches it: `limit`, and how many pages deep. */
export interface HotPage {
  limit: number;
  pages: number;
}

/** The page every client reads first (`GET /todos`, limit 100): what the worker keeps warm by default. */
export const DEFAULT_HOT_PAGES: readonly HotPage[] = [{ limit: 100, pages: 1 }];

/** `HOT_PAGES=100,1000:2` means the first page of limit 100, and the first two pages of limit 1000. */
export function parseHotPages(text: string): HotPage[] {
  const out: HotPage[] = [];
  for (const item of text.split(",").map((s) => s.trim())) {
    if (item === "") continue;
    const [limitText, pagesText] = item.split(":");
    const limit = parseLimit(limitText);
    const pages = pagesText === undefined ? 1 : Number(pagesText);
    if (limit === null || limitText === undefined || limitText === "") {
      throw new Error(`"${item}": limit must be an integer from 1 to 1000`);
    }
    if (!Number.isInteger(pages) || pages < 1 || pages > 10 || !/^[0-9]+$/.test(pagesText ?? "1")) {
      throw new Error(`"${item}": page depth must be an integer from 1 to 10`);
    }
    if (!out.some((p) => p.limit === limit)) out.push({ limit, pages });
  }
  if (out.length === 0) throw new Error("must name at least one limit, e.g. 100");
  return out;
}

/** A hot page as last written: enough to tell whether a change touches it. */
interface Written {
  ids: ReadonlySet<string>;
  range: PageRange;
  next: string | null;
}

/**
 * An entry to write to L2; `onlyIfPresent`: only over one someone cached; `index`: a
 * cursor page's place in the page index (see writeEntry).
 */
export interface EntryWrite {
  key: string;
  entry: CacheEntry;
  onlyIfPresent?: boolean;
  index?: PageIndexEntry;
}

/**
 * A page read from Postgres as L2 holds it: encoded once for the fleet (identity,
 * gzip, brotli, ETag) and stamped, with its place in the page index when it is a
 * cursor page. What every writer of a page (a reader's fill, the worker) builds.
 */
export async function encodePage(
  limit: number,
  cursor: string | null,
  page: TodoPage,
  stamp: number,
): Promise<{ entry: CacheEntry; index: PageIndexEntry | undefined }> {
  return {
    entry: await buildEntry(stamp, pageSubject(page), page.json),
    index: pageIndexEntry(limit, cursor, page.range),
  };
}

/**
 * The hot pages one writer keeps in L2: after a change set it reads again only the
 * pages the changes touch (a create always touches the first page; an update of
 * an old todo usually touches none), and encodes each once for the whole fleet.
 * Follows each chain of `pages` deep from the first page, so a moved boundary
 * writes the next page under its new cursor.
 */
export class HotPages {
  private readonly written = new Map<string, Written>();

  constructor(
    private readonly spec: readonly HotPage[],
    private readonly keys: CacheKeys,
  ) {}

  /** Reads and encodes the hot pages `changes` touch ("all" after a reset), stamped `stamp`. */
  async read(
    db: Pool | PoolClient,
    changes: readonly TodoChange[] | "all",
    stamp: number,
  ): Promise<EntryWrite[]> {
    const out: EntryWrite[] = [];
    const walked = new Map<string, Written>();
    for (const { limit, pages } of this.spec) {
      let cursor: string | null = null;
      // Once a page is read again, the ones after it are too: its boundary may have moved
      // (then the next page has a new cursor), and a page off the walk was not being checked.
      let reading = changes === "all";
      for (let i = 0; i < pages; i++) {
        const key = this.keys.page(limit, cursor);
        const known = this.written.get(key);
        reading ||=
          known === undefined ||
          (changes !== "all" && changes.some((c) => pageTouched(known.ids, known.range, c)));
        let written: Written;
        if (reading || known === undefined) {
          const page = await queryTodoPage(
            db,
            limit,
            cursor === null ? null : decodeCursor(cursor),
          );
          written = { ids: new Set(page.ids), range: page.range, next: page.next };
          out.push({ key, ...(await encodePage(limit, cursor, page, stamp)) });
        } else {
          written = known;
        }
        walked.set(key, written);
        if (written.next === null) break;
        cursor = written.next;
      }
    }
    this.written.clear();
    for (const [key, w] of walked) this.written.set(key, w);
    return out;
  }

  /** Whether `key` is a page of the hot walk (read again here when a change touches it). */
  holds(key: string): boolean {
    return this.written.has(key);
  }

  /** Forget what was written (Redis lost it): the next read writes every hot page. */
  forget(): void {
    this.written.clear();
  }
}

/**
 * Writes entries to L2 (each only if nothing as new is there); resolves with the
 * ones written, encoded (what pushHotEntries sends).
 */
export async function writeEntries(
  redis: Redis,
  keys: CacheKeys,
  writes: readonly EntryWrite[],
  ttlSec: number,
): Promise<StoredEntry[]> {
  const stored = writes.map((w) => ({ key: w.key, value: encodeEntry(w.entry) }));
  const written = await Promise.all(
    writes.map((w, i) =>
      writeEntry(redis, keys, {
        key: w.key,
        stamp: w.entry.stamp,
        value: stored[i]?.value as Buffer,
        ttlSec,
        ...(w.onlyIfPresent !== undefined && { onlyIfPresent: w.onlyIfPresent }),
        ...(w.index !== undefined && { index: w.index }),
      }),
    ),
  );
  return stored.filter((_, i) => written[i]);
}

export interface RefreshResult {
  generation: number;
  /** Publication number of the change set. */
  seq: number;
  /** Hot pages written. */
  pages: number;
}

/**
 * After the data changed wholesale (a seed, a restore): allocate a generation,
 * write the hot pages under it, then publish a reset, so readers refresh
 * everything they hold (still answering from it meanwhile) and L2 entries stamped
 * before it count as stale.
 */
export async function refreshGeneration(opts: {
  redis: Redis;
  db: Pool | PoolClient;
  keys: CacheKeys;
  hotPages: readonly HotPage[];
  ttlSec: number;
}): Promise<RefreshResult> {
  const { redis, keys } = opts;
  const generation = await allocateGeneration(redis, keys);
  const writes = await new HotPages(opts.hotPages, keys).read(opts.db, "all", generation);
  await pushHotEntries(redis, keys, await writeEntries(redis, keys, writes, opts.ttlSec));
  const seq = await publishChanges(redis, keys, { generation, reset: true, changes: [] });
  return { generation, seq, pages: writes.length };
}
