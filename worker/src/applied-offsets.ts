import type { TopicPartitionOffset } from "kafkajs";

/**
 * Offsets are committed to Kafka at most every OFFSET_COMMIT_INTERVAL_MS rather than
 * after every slice: a commit is a broker round trip, which dominated the worker's
 * CPU when batches are small (a few commands per partition at low rates). What this
 * costs is redelivery of at most that much work after a crash, which the commands
 * table makes harmless. A clean stop drains and commits everything applied.
 */
export const OFFSET_COMMIT_INTERVAL_MS = 500;

/** The next offset to read per partition (everything before it is applied), and the handlers in flight. */
export class AppliedOffsets {
  private readonly next = new Map<string, TopicPartitionOffset>();
  private inflight = 0;
  private stopping = false;
  private readonly idleWaiters: (() => void)[] = [];

  /** False once draining: the handler must not start on a batch. */
  enter(): boolean {
    if (this.stopping) return false;
    this.inflight++;
    return true;
  }

  leave(): void {
    this.inflight--;
    if (this.inflight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  get draining(): boolean {
    return this.stopping;
  }

  /** Call after the database committed everything before `offset`. */
  applied(topic: string, partition: number, offset: string): void {
    this.next.set(`${topic}\u0000${partition}`, { topic, partition, offset });
  }

  /** After a rebalance, partitions may belong to someone else now: their offsets are not ours to commit. */
  forget(): void {
    this.next.clear();
  }

  /** Stops new batches, waits for the slices in flight, then returns what to commit. */
  async drain(): Promise<TopicPartitionOffset[]> {
    this.stopping = true;
    if (this.inflight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    return [...this.next.values()];
  }
}
