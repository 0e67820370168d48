import { type CacheEntry, decodeEntry, decodeHotEntries, entryStamp } from "@million-rps/shared";

/**
 * More than one publication pushes (its hot pages, and the cursor pages it rewrote
 * within CACHED_PAGES_PUSH_BYTES): past it the oldest pushes are let go.
 */
const MAX_HELD = 64;

/**
 * The pages the worker pushed with its publications (shared/src/hot-entries.ts), the
 * hot pages and the cursor pages it rewrote, newest per key, until a refresh takes
 * one: it arrives just before the change set that marks the page, so the refresh
 * swaps it in without reading Redis. Only a refresh that a change asked for takes
 * one; a cold fill or a revalidation reads L2, which knows every change since an
 * entry's stamp, even one whose message was lost.
 */
export class PushedEntries {
  private readonly byKey = new Map<string, { stamp: number; value: Buffer }>();

  get size(): number {
    return this.byKey.size;
  }

  /** One pushed message; false when this version cannot read it. */
  offer(message: Buffer): boolean {
    const entries = decodeHotEntries(message);
    if (entries === null) return false;
    for (const { key, value } of entries) {
      const stamp = entryStamp(value);
      const held = this.byKey.get(key);
      if (stamp === null || (held !== undefined && held.stamp >= stamp)) continue;
      this.byKey.delete(key); // re-inserted last: the map's order is the age of the pushes
      this.byKey.set(key, { stamp, value });
    }
    for (const key of this.byKey.keys()) {
      if (this.byKey.size <= MAX_HELD) break;
      this.byKey.delete(key);
    }
    return true;
  }

  /** The pushed entry for `key` if it reflects at least generation `want`; taken once. */
  take(key: string, want: number): CacheEntry | null {
    const held = this.byKey.get(key);
    if (held === undefined || held.stamp < want) return null;
    this.byKey.delete(key);
    return decodeEntry(held.value);
  }

  /** Redis lost its data: stamps from before mean nothing any more. */
  clear(): void {
    this.byKey.clear();
  }
}
