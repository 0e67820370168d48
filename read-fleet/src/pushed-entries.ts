import { type CacheEntry, decodeEntry, decodeHotEntries, entryStamp } from "@million-rps/shared";

/**
 * What is held at most, across publications (each pushes its hot pages, and the todos
 * and cursor pages it rewrote within CACHED_PAGES_PUSH_BYTES): past either bound the
 * oldest pushes are let go. A change set is applied as soon as it arrives, just after
 * its push, so this only has to outlast a burst of publications.
 */
export const MAX_HELD_ENTRIES = 4096;
export const MAX_HELD_BYTES = 8 * 1024 * 1024;

/**
 * The entries the worker pushed with its publications (shared/src/hot-entries.ts), the
 * hot pages and the todos and cursor pages it rewrote, newest per key, until a refresh
 * takes one: it arrives just before the change set that marks the page, so the refresh
 * swaps it in without reading Redis. Only a refresh that a change asked for takes
 * one; a cold fill or a revalidation reads L2, which knows every change since an
 * entry's stamp, even one whose message was lost.
 */
export class PushedEntries {
  private readonly byKey = new Map<string, { stamp: number; value: Buffer }>();
  private heldBytes = 0;

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
      this.drop(key); // re-inserted last: the map's order is the age of the pushes
      this.byKey.set(key, { stamp, value });
      this.heldBytes += value.length;
    }
    for (const key of this.byKey.keys()) {
      if (this.byKey.size <= MAX_HELD_ENTRIES && this.heldBytes <= MAX_HELD_BYTES) break;
      this.drop(key);
    }
    return true;
  }

  /** The pushed entry for `key` if it reflects at least generation `want`; taken once. */
  take(key: string, want: number): CacheEntry | null {
    const held = this.byKey.get(key);
    if (held === undefined || held.stamp < want) return null;
    this.drop(key);
    return decodeEntry(held.value);
  }

  /** Redis lost its data: stamps from before mean nothing any more. */
  clear(): void {
    this.byKey.clear();
    this.heldBytes = 0;
  }

  private drop(key: string): void {
    const held = this.byKey.get(key);
    if (held === undefined) return;
    this.byKey.delete(key);
    this.heldBytes -= held.value.length;
  }
}
