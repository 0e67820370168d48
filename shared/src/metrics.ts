/**
 * Prometheus metrics for the containers (read fleet, worker): prom-client, with
 * the process metrics a uWS fleet's health depends on (event-loop lag, GC, heap,
 * CPU, handles). Imported as `@million-rps/shared/metrics`, so the Lambdas never
 * load it.
 */
import { collectDefaultMetrics, type Metric, type Registry } from "prom-client";

/** Latency buckets in seconds, from a millisecond to five seconds. */
export const SECONDS_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/**
 * Adds prom-client's default process metrics (`process_*`, `nodejs_*`) to a
 * registry: once per process, by the process's entry point. Their cost is off the
 * request path: an event-loop delay histogram sampled by libuv every 10 ms, a GC
 * PerformanceObserver, and reads of process counters at scrape.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
}

/** The sum of a metric's samples whose labels include `labels` (tests and progress lines). */
export async function sampleSum(
  metric: Metric,
  labels: Readonly<Record<string, string>> = {},
): Promise<number> {
  const { values } = await metric.get();
  let sum = 0;
  for (const v of values) {
    const l = v.labels as Record<string, unknown>;
    if (Object.entries(labels).every(([k, want]) => String(l[k]) === want)) sum += v.value;
  }
  return sum;
}
