/**
 * Command ids this process committed lately (bounded, oldest forgotten first). A
 * duplicate send usually arrives shortly after its original, so most duplicates are
 * recognised here without asking Postgres. Only ever a shortcut: an id missing here
 * may still be recorded, which the commands primary key catches.
 */
export class RecentCommands {
  private readonly ids = new Set<string>();
  /** Ring of remembered ids in arrival order: the slot to overwrite next is the oldest. */
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(private readonly capacity = 100_000) {
    this.ring = new Array(capacity);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Call only after the transaction that recorded these ids committed. */
  remember(ids: Iterable<string>): void {
    if (this.capacity === 0) return;
    for (const id of ids) {
      if (this.ids.has(id)) continue;
      const oldest = this.ring[this.next];
      if (oldest !== undefined) this.ids.delete(oldest);
      this.ring[this.next] = id;
      this.ids.add(id);
      this.next = (this.next + 1) % this.capacity;
    }
  }
}
