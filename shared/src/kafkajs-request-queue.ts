// A static import, so bundlers (the images, the Lambdas) carry the module too.
import RequestQueueModule from "kafkajs/src/network/requestQueue/index.js";

/**
 * kafkajs 2.2.4 (in maintenance) re-arms its request-queue check after every check,
 * whether or not a request waits: with nothing throttled the delay is negative
 * (`throttledUntil` is -1, so `-1 - Date.now()`), which Node runs after 1 ms. So
 * every broker connection that ever got an answer wakes its process every
 * millisecond, for ever (kafkajs issues 1556, 1604 and 1704). Measured here, in the
 * write API idle after traffic: 30-36 ms of CPU and ~900 wake-ups a second (3 ms and
 * 37 with this patch), on a box it shares with the read fleet. On Node 24 the
 * negative delay also prints a TimeoutNegativeWarning per client (issue 1751).
 *
 * This is the method as kafkajs writes it, except that it schedules nothing when no
 * request waits (the fix proposed upstream in kafkajs PR 1667): a request that has to
 * wait is pushed onto `pending` and schedules its own check (`push`), and an answer
 * checks the queue at once (`fulfillRequest`), so no check is lost; the delay is never
 * negative. Applied once, before any client exists; a kafkajs upgrade that changes the
 * class fails loudly here.
 */
export interface RequestQueue {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL. */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

function scheduleCheckPendingRequests(this: RequestQueue): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  // kafkajs: a throttle that has (nearly) passed is checked again after the interval (PR 1532).
  const delay = untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
}

let applied = false;

export function patchKafkajsRequestQueue(): void {
  if (applied) return;
  applied = true;
  const queue = RequestQueueModule as { prototype: RequestQueue };
  if (typeof queue.prototype.scheduleCheckPendingRequests !== "function") {
    throw new Error("kafkajs changed: RequestQueue.scheduleCheckPendingRequests is gone");
  }
  queue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
}
