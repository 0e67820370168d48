import type { Logger } from "@million-rps/shared/log";
import type { FleetMetrics } from "./fleet-metrics";
import type { Sized, Slot } from "./l1-cache";

/** What one refresh did: new bytes, the same ETag, or only older bytes to be had (Postgres away). */
export type RefreshResult = "replaced" | "unchanged" | "older";

/** Brings in a successor at least as new as `want` and swaps it into the slot. */
export type RefreshJob = (want: number) => Promise<RefreshResult>;

export interface RefresherOptions {
  concurrency: number;
  metrics: FleetMetrics;
  log: Logger;
  now: () => number;
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;

/**
 * Runs refreshes of held answers in the background, a few at a time, so a reset
 * (every answer at once) cannot flood Redis or Postgres. A slot keeps answering
 * from its bytes until its job swaps the successor in; a job that fails leaves
 * them there (stale-if-error) and is retried with backoff.
 */
export class Refresher {
  private readonly queue: { slot: Slot<Sized>; job: RefreshJob; failures: number }[] = [];
  private running = 0;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly o: RefresherOptions) {}

  get waiting(): number {
    return this.queue.length + this.running;
  }

  /** Queues a refresh unless one is queued or running (it will see the slot's new `want`). */
  schedule(slot: Slot<Sized>, job: RefreshJob, failures = 0): void {
    if (slot.refreshing || slot.evicted || this.stopped || !due(slot)) return;
    slot.refreshing = true;
    this.queue.push({ slot, job, failures });
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.queue.length = 0;
  }

  private pump(): void {
    while (this.running < this.o.concurrency && this.queue.length > 0) {
      const task = this.queue.shift() as (typeof this.queue)[number];
      this.running++;
      void this.run(task).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(task: { slot: Slot<Sized>; job: RefreshJob; failures: number }) {
    const { slot, job } = task;
    let revalidating = false;
    try {
      while (!slot.evicted && !this.stopped && due(slot)) {
        const target = slot.want;
        revalidating = slot.revalidate;
        slot.revalidate = false;
        // A revalidation asks for nothing newer than held: L2 says whether it still is.
        const result = await job(Math.max(target, slot.stamp));
        this.o.metrics.refreshes.inc({ result });
        if (result === "older") throw new Error("only older bytes could be had");
        if (slot.stamp >= target && slot.markedAt > 0) {
          this.o.metrics.refreshSeconds.observe((this.o.now() - slot.markedAt) / 1000);
          slot.markedAt = 0;
        }
      }
      slot.refreshing = false;
    } catch (err) {
      slot.refreshing = false;
      if (revalidating) slot.revalidate = true;
      if (this.stopped || slot.evicted) return;
      const failures = task.failures + 1;
      if (failures === 1)
        this.o.log.debug("refresh failed; still serving the older bytes", { err });
      this.o.metrics.refreshes.inc({ result: "failed" });
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (failures - 1));
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.schedule(slot, job, failures);
      }, delay);
      timer.unref();
      this.timers.add(timer);
    }
  }
}

function due(slot: Slot<Sized>): boolean {
  return slot.want > slot.stamp || slot.revalidate;
}
