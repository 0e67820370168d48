export interface PaceResult {
  started: number;
  /** Not started because `maxInFlight` were still waiting: the client's own back-pressure. */
  skipped: number;
}

export interface Pacer {
  /** Stops starting new work; resolves with what was started. */
  stop(): Promise<PaceResult>;
}

/**
 * Starts `start()` at a steady `perSecond` until stopped, but never more than
 * `maxInFlight` at once. Open loop: a slow server does not slow the schedule
 * down, it makes requests pile up (then skips them, and says so).
 */
export function runAtRate(
  perSecond: number,
  maxInFlight: number,
  inFlight: () => number,
  start: () => void,
): Pacer {
  const t0 = Date.now();
  const result: PaceResult = { started: 0, skipped: 0 };
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - t0) * perSecond) / 1000);
    while (result.started + result.skipped < due) {
      if (inFlight() < maxInFlight) {
        start();
        result.started++;
      } else result.skipped++;
    }
  }, 10);
  return {
    async stop() {
      clearInterval(timer);
      return result;
    },
  };
}
