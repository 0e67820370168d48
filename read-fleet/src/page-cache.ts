import {
  type CacheEntry,
  type ChangeSet,
  comparePositions,
  type PageRange,
  type Position,
  pageTouched,
} from "@million-rps/shared";
import { L1Cache, type Slot } from "./l1-cache";
import { nextLink, type PageQuery } from "./page-query";
import { type Representation, representationOf } from "./representation";

/** L1 value of `GET /todos`: the prebuilt answer, and what a change must touch to alter it. */
export interface PageAnswer {
  readonly query: PageQuery;
  readonly rep: Representation;
  readonly etag: string;
  readonly ids: ReadonlySet<string>;
  readonly range: PageRange;
  /** The next page's cursor (the `Link` header), null on the last page. */
  readonly next: string | null;
  readonly bytes: number;
}

/** Per id in a page: a Set costs ~40 bytes, well under the page's bodies. */
const ID_BYTES = 64;

/** The answer an L2 entry makes for `query`: variants copied, nothing compressed. */
export function pageAnswerOf(
  query: PageQuery,
  entry: CacheEntry,
  cacheControl: string,
): PageAnswer {
  const subject = entry.subject;
  if (subject.kind !== "page") throw new Error(`${query.key}: the L2 entry is not a page`);
  const rep = representationOf(entry, {
    cacheControl,
    extraHeaders: subject.next === null ? [] : [["Link", nextLink(query.limit, subject.next)]],
  });
  return {
    query,
    rep,
    etag: entry.etag,
    ids: new Set(subject.ids),
    range: subject.range,
    next: subject.next,
    bytes: rep.bytes + subject.ids.length * ID_BYTES,
  };
}

/**
 * The pages one process holds, with an index from todo id to the pages that show
 * it, so a change set finds the pages it touches without looking at every id of
 * every page: by id through the index, by position with one binary search per page.
 */
export class PageCache extends L1Cache<PageAnswer> {
  private readonly byId = new Map<string, Set<Slot<PageAnswer>>>();

  protected override added(slot: Slot<PageAnswer>): void {
    for (const id of slot.value.ids) this.index(id, slot);
  }

  protected override removed(slot: Slot<PageAnswer>, value: PageAnswer): void {
    for (const id of value.ids) this.unindex(id, slot);
  }

  /** A refreshed page mostly shows the same todos: only the ids that came or went move in the index. */
  protected override replaced(slot: Slot<PageAnswer>, old: PageAnswer): void {
    const ids = slot.value.ids;
    for (const id of old.ids) if (!ids.has(id)) this.unindex(id, slot);
    for (const id of ids) if (!old.ids.has(id)) this.index(id, slot);
  }

  private index(id: string, slot: Slot<PageAnswer>): void {
    let slots = this.byId.get(id);
    if (slots === undefined) {
      slots = new Set();
      this.byId.set(id, slots);
    }
    slots.add(slot);
  }

  private unindex(id: string, slot: Slot<PageAnswer>): void {
    const slots = this.byId.get(id);
    slots?.delete(slot);
    if (slots?.size === 0) this.byId.delete(id);
  }

  /** Every held page whose bytes `cs` may change (stamped before it). */
  touchedBy(cs: ChangeSet): Slot<PageAnswer>[] {
    const out = new Set<Slot<PageAnswer>>();
    for (const c of cs.changes) {
      for (const slot of this.byId.get(c.id) ?? []) out.add(slot);
    }
    const positions: Position[] = [];
    for (const c of cs.changes) if (c.position !== null) positions.push(c.position);
    if (positions.length > 0) {
      positions.sort(comparePositions);
      for (const slot of this.slots()) {
        if (!out.has(slot) && holdsAny(slot.value.range, positions)) out.add(slot);
      }
    }
    return [...out].filter((slot) => slot.stamp < cs.generation);
  }
}

/** Whether any of `sorted` (ascending) falls in [low, high). */
function holdsAny(range: PageRange, sorted: readonly Position[]): boolean {
  let lo = 0;
  let hi = sorted.length;
  if (range.low !== null) {
    // First position at or above `low`.
    const low = range.low;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePositions(sorted[mid] as Position, low) < 0) lo = mid + 1;
      else hi = mid;
    }
  }
  const first = sorted[lo];
  return first !== undefined && (range.high === null || comparePositions(first, range.high) < 0);
}

/** Whether one change set touches this answer (a check after a fill, against what arrived meanwhile). */
export function pageTouchedBy(answer: PageAnswer, cs: ChangeSet): boolean {
  return cs.changes.some((c) => pageTouched(answer.ids, answer.range, c));
}
