// A static import, so bundlers (the images, the Lambdas) carry the module too.
import RequestQueueModule from "kafkajs/src/network/requestQueue/index.js";

/**
 * kafkajs 2.2.4 (in maintenance) schedules its request-queue check with a negative
 * delay when nothing is throttled (`throttledUntil` is -1, so `-1 - Date.now()`).
 * Node clamps it to 1 ms either way, but Node 24 also prints a TimeoutNegativeWarning
 * for every client that connects (kafkajs issue 1751). This is the method as kafkajs
 * writes it, with the delay clamped the way Node clamps it (the fix proposed upstream
 * in kafkajs PR 1755): the same behaviour, without the warning. Applied once, before
 * any client exists; a kafkajs upgrade that changes the file fails loudly here.
 */
interface RequestQueue {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL. */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

let applied = false;

export function clampKafkajsTimers(): void {
  if (applied) return;
  applied = true;
  const RequestQueue = RequestQueueModule as { prototype: RequestQueue };
  if (typeof RequestQueue.prototype.scheduleCheckPendingRequests !== "function") {
    throw new Error("kafkajs changed: RequestQueue.scheduleCheckPendingRequests is gone");
  }
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(
    this: RequestQueue,
  ) {
    let scheduleAt = this.throttledUntil - Date.now();
    if (!this.throttleCheckTimeoutId) {
      if (this.pending.length > 0) {
        scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
      }
      this.throttleCheckTimeoutId = setTimeout(
        () => {
          this.throttleCheckTimeoutId = null;
          this.checkPendingRequests();
        },
        Math.max(1, scheduleAt),
      );
    }
  };
}
