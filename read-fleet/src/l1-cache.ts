/**
 * L1: per-process cache of prebuilt responses for the current generation, bounded
 * in entries and bytes across all caches sharing one budget. The previous
 * generation is kept only as a stale-if-error fallback. Pure (time is passed in).
 */
export interface Sized {
  readonly bytes: number;
}

export interface Slot<V> {
  readonly value: V;
  /** Past this instant (ms) the entry must be refreshed before it is trusted again. */
  readonly freshUntil: number;
  /** Second-chance bit: set on every hit, cleared by the evictor. */
  used: boolean;
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

export class GenerationCache<V extends Sized> {
  private current = new Map<string, Slot<V>>();
  private previous = new Map<string, Slot<V>>();
  private gen: number;
  private epochCount = 0;

  constructor(
    private readonly budget: L1Budget,
    generation = 0,
  ) {
    this.gen = generation;
  }

  get generation(): number {
    return this.gen;
  }

  /** Changes on every switch or reset, even to the same number: a fill started before is stale. */
  get epoch(): number {
    return this.epochCount;
  }

  get size(): number {
    return this.current.size;
  }

  /** Bytes held by this cache's budget (shared with any other cache using it). */
  get bytes(): number {
    return this.budget.bytes;
  }

  /** The hot path: one Map lookup. The caller checks `freshUntil`. */
  get(key: string): Slot<V> | undefined {
    const slot = this.current.get(key);
    if (slot !== undefined) slot.used = true;
    return slot;
  }

  /** Any bytes we still hold for `key`, however old: for stale-if-error. */
  getStale(key: string): Slot<V> | undefined {
    return this.current.get(key) ?? this.previous.get(key);
  }

  /** Stores under the current generation, unless the `epoch` the fill started in is over. */
  set(key: string, value: V, freshUntil: number, epoch = this.epochCount): boolean {
    if (epoch !== this.epochCount) return false;
    this.remove(this.current, key);
    this.current.set(key, { value, freshUntil, used: false });
    this.budget.entries++;
    this.budget.bytes += value.bytes;
    this.evict();
    return true;
  }

  /**
   * Moves to another generation; false (and nothing changes) if it is the current one.
   * Lower numbers are accepted too: published generations only move forward, so a
   * lower one means Redis lost its data and numbering restarted.
   */
  switchTo(generation: number): boolean {
    if (generation === this.gen) return false;
    this.reset(generation);
    return true;
  }

  /** Starts `generation` afresh even if it is the current number (Redis may have reused it). */
  reset(generation: number): void {
    this.dropAll(this.previous);
    this.previous = this.current;
    this.current = new Map();
    this.gen = generation;
    this.epochCount++;
  }

  private remove(map: Map<string, Slot<V>>, key: string): void {
    const old = map.get(key);
    if (old === undefined) return;
    map.delete(key);
    this.budget.entries--;
    this.budget.bytes -= old.value.bytes;
  }

  private dropAll(map: Map<string, Slot<V>>): void {
    for (const slot of map.values()) {
      this.budget.entries--;
      this.budget.bytes -= slot.value.bytes;
    }
    map.clear();
  }

  /** Second chance (CLOCK): recently hit entries survive one more pass. Old generation goes first. */
  private evict(): void {
    while (this.budget.over && this.previous.size > 0) {
      const key = this.previous.keys().next().value as string;
      this.remove(this.previous, key);
    }
    let spared = 0;
    while (this.budget.over && this.current.size > 1) {
      const [key, slot] = this.current.entries().next().value as [string, Slot<V>];
      if (slot.used && spared < this.current.size) {
        slot.used = false;
        this.current.delete(key);
        this.current.set(key, slot);
        spared++;
      } else {
        this.remove(this.current, key);
      }
    }
  }
}
