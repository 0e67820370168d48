/**
 * L1: per-process cache of prebuilt answers, keyed by what they answer (the
 * canonical page, the todo id), bounded in entries and bytes across all caches
 * sharing one budget. An entry is never dropped because the data changed: it is
 * marked (`want` above `stamp`) and keeps answering until its successor is in
 * (see refresher.ts). Pure: time is passed in.
 */
export interface Sized {
  readonly bytes: number;
}

export interface Slot<V> {
  readonly key: string;
  /** The answer served now; replaced in place when its successor arrives. */
  value: V;
  /** Generation its content reflects (-1: unknown, after Redis lost its data). */
  stamp: number;
  /** Highest generation known to change it; above `stamp`, a refresh is due. */
  want: number;
  /** When its content was read (ms): past the TTL it is refreshed whatever the feed said. */
  fetchedAt: number;
  /** Check it against L2 even without a known change (its TTL passed, or changes may have been missed). */
  revalidate: boolean;
  /** When `want` first rose above `stamp` (ms): how long it answered from the older bytes. */
  markedAt: number;
  /** A refresh is queued or running. */
  refreshing: boolean;
  /** Second-chance bit: set on every hit, cleared by the evictor. */
  used: boolean;
  /** Dropped by the bound: whoever still holds this slot must look the key up again. */
  evicted: boolean;
}

/** Entries and bytes held by every cache that shares it. */
export class L1Budget {
  entries = 0;
  bytes = 0;
  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {}
  get over(): boolean {
    return this.entries > this.maxEntries || this.bytes > this.maxBytes;
  }
}

export class L1Cache<V extends Sized> {
  private readonly map = new Map<string, Slot<V>>();

  constructor(private readonly budget: L1Budget) {}

  /** Told of every value that enters the cache (new): for indexes in subclasses. */
  protected added(_slot: Slot<V>): void {}

  /** Told of every value that leaves it (evicted). */
  protected removed(_slot: Slot<V>, _value: V): void {}

  /** Told when a slot's value is replaced by its successor (by default: `old` removed, the new one added). */
  protected replaced(slot: Slot<V>, old: V): void {
    this.removed(slot, old);
    this.added(slot);
  }

  get size(): number {
    return this.map.size;
  }

  /** Bytes held by this cache's budget (shared with any other cache using it). */
  get bytes(): number {
    return this.budget.bytes;
  }

  /** The hot path: one Map lookup, and the second-chance bit. */
  get(key: string): Slot<V> | undefined {
    const slot = this.map.get(key);
    if (slot !== undefined) slot.used = true;
    return slot;
  }

  /** Looks without counting it as a use (invalidation, tests). */
  peek(key: string): Slot<V> | undefined {
    return this.map.get(key);
  }

  slots(): IterableIterator<Slot<V>> {
    return this.map.values();
  }

  /** Stores a new answer (a cold fill); replaces any slot the key had. */
  set(key: string, value: V, stamp: number, now: number): Slot<V> {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.replace(old, value, stamp, now);
      return old;
    }
    const slot: Slot<V> = {
      key,
      value,
      stamp,
      want: stamp,
      fetchedAt: now,
      revalidate: false,
      markedAt: 0,
      refreshing: false,
      used: false,
      evicted: false,
    };
    this.map.set(key, slot);
    this.budget.entries++;
    this.budget.bytes += value.bytes;
    this.added(slot);
    this.evict(slot);
    return slot;
  }

  /** Swaps in a slot's successor (a refresh): hits that hold the slot see it at once. */
  replace(slot: Slot<V>, value: V, stamp: number, now: number): void {
    if (slot.evicted) return;
    const old = slot.value;
    this.budget.bytes += value.bytes - old.bytes;
    slot.value = value;
    slot.stamp = stamp;
    slot.fetchedAt = now;
    this.replaced(slot, old);
    this.evict(slot);
  }

  private remove(slot: Slot<V>): void {
    this.map.delete(slot.key);
    slot.evicted = true;
    this.budget.entries--;
    this.budget.bytes -= slot.value.bytes;
    this.removed(slot, slot.value);
  }

  /** Second chance (CLOCK): recently hit entries survive one more pass. `keep` is never evicted. */
  private evict(keep: Slot<V>): void {
    let spared = 0;
    while (this.budget.over && this.map.size > 1) {
      const slot = this.map.values().next().value as Slot<V>;
      if (slot === keep || (slot.used && spared < this.map.size)) {
        slot.used = false;
        this.map.delete(slot.key);
        this.map.set(slot.key, slot);
        spared++;
        if (spared > this.map.size * 2) break; // only `keep` is left to evict
      } else {
        this.remove(slot);
      }
    }
  }
}
