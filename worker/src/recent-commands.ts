/**
 * Command ids this process committed lately (bounded, oldest forgotten first). A
 * duplicate send usually arrives shortly after its original, so most duplicates are
 * recognised here without asking Postgres. Only ever a shortcut: an id missing here
 * may still be recorded, which the commands primary key catches.
 */
export class RecentCommands {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 100_000) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Call only after the transaction that recorded these ids committed. */
  remember(ids: Iterable<string>): void {
    for (const id of ids) this.ids.add(id);
    // A Set iterates in insertion order, so the first entries are the oldest.
    for (const old of this.ids) {
      if (this.ids.size <= this.capacity) break;
      this.ids.delete(old);
    }
  }
}
