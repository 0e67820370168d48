/**
 * One call per key at a time in this process: a caller asking for a key already
 * in flight gets the same promise, so a burst of misses on one answer costs one
 * fill. The key is free again once that call settles, rejected or not.
 */
export class SingleFlight<K, V> {
  private readonly flights = new Map<K, Promise<V>>();

  /** Calls in flight now. */
  get size(): number {
    return this.flights.size;
  }

  run(key: K, call: () => Promise<V>): Promise<V> {
    const running = this.flights.get(key);
    if (running !== undefined) return running;
    const flight = call().finally(() => this.flights.delete(key));
    this.flights.set(key, flight);
    return flight;
  }
}
