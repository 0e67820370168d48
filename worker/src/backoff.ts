import { setTimeout as sleep } from "node:timers/promises";

/** Exponential backoff with jitter: ~100 ms, 200 ms, 400 ms ... capped at `maxMs`. */
export function backoffMs(
  attempt: number,
  baseMs = 100,
  maxMs = 5_000,
  random = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  // Half fixed, half random: spreads retries of many workers without ever being ~0.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Sleeps `ms`, or less when `signal` aborts (shutdown should not wait out a backoff). */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    if (!signal?.aborted) throw err;
  }
}
