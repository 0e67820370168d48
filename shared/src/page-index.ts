import type { CacheKeys } from "./cache-keys";
import { decodeCursor, type PageCursor } from "./cursor";
import { comparePositions, type PageRange, type Position, positionOfCursor } from "./position";
import { parseLimit } from "./read-model";

/**
 * The page index (`keys.pageIndex`): a sorted set of the cursor pages L2 holds,
 * member `<limit> <cursor>`, score the micros of the page's last todo (its low
 * end; -inf when the page is not full and so reaches the end of the list). It is
 * what lets the worker find the cached pages a change lands in without asking
 * the read fleet: the pages holding a position are those whose low is at or
 * below it and whose cursor (their high end, exclusive) is above it.
 *
 * Whoever writes a cursor page to L2 (the read process that filled it, or the
 * worker) indexes it in the same script; members whose entry has expired are
 * dropped when the worker finds them, and the set is bounded (PAGE_INDEX_MAX).
 * First pages are not indexed: the worker keeps the hot ones itself, and any
 * other first page is refreshed by the readers that hold it.
 */
export interface PageIndexEntry {
  readonly member: string;
  /** Low end in micros, as Redis reads a score ("-inf" for a page that is not full). */
  readonly score: string;
}

/** Most pages the index holds: past it, the deepest pages leave it (their readers still refresh them). */
export const PAGE_INDEX_MAX = 100_000;

/** The index entry of a cursor page; undefined for a first page (not indexed). */
export function pageIndexEntry(
  limit: number,
  cursor: string | null,
  range: PageRange,
): PageIndexEntry | undefined {
  if (cursor === null) return undefined;
  return {
    member: `${limit} ${cursor}`,
    score: range.low === null ? "-inf" : String(range.low.micros),
  };
}

/** A cached cursor page the index names. */
export interface IndexedPage {
  readonly limit: number;
  readonly cursor: string;
  /** The cursor, decoded: what the page query takes. */
  readonly decoded: PageCursor;
  /** Its L2 key. */
  readonly key: string;
}

/**
 * Of the members `findIndexedPages` returned for each of `positions`, the pages
 * whose range holds the position, once each; members this code cannot read are
 * `junk` (to drop from the index).
 */
export function pagesHolding(
  keys: CacheKeys,
  positions: readonly Position[],
  found: readonly (readonly string[])[],
): { pages: Map<string, IndexedPage>; junk: string[] } {
  const pages = new Map<string, IndexedPage>();
  const junk: string[] = [];
  positions.forEach((p, i) => {
    for (const member of found[i] ?? []) {
      if (pages.has(member)) continue;
      const page = parseMember(keys, member);
      if (page === null) junk.push(member);
      // The score matched on micros alone: a tie with the low end is kept (at worst one
      // page read needlessly, never one missed).
      else if (comparePositions(p, positionOfCursor(page.decoded)) < 0) pages.set(member, page);
    }
  });
  return { pages, junk };
}

function parseMember(keys: CacheKeys, member: string): IndexedPage | null {
  const sp = member.indexOf(" ");
  if (sp <= 0) return null;
  const limit = parseLimit(member.slice(0, sp));
  const cursor = member.slice(sp + 1);
  const decoded = limit === null ? null : decodeCursor(cursor);
  if (limit === null || decoded === null) return null;
  return { limit, cursor, decoded, key: keys.page(limit, cursor) };
}
