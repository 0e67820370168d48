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
 * How often libuv samples the event-loop delay histogram (`nodejs_eventloop_lag_*`).
 * prom-client's default, 10 ms, wakes an idle process 100 times a second (~2 ms of
 * CPU a second more than 50 ms does, on a 2-vCPU VM); each sample still measures its
 * delay exactly, and a stall long enough to matter (tens of milliseconds) spans one.
 */
export const EVENT_LOOP_SAMPLE_MS = 50;

/**
 * Adds prom-client's default process metrics (`process_*`, `nodejs_*`) to a
 * registry: once per process, by the process's entry point. Their cost is off the
 * request path: the event-loop delay histogram above, a GC PerformanceObserver, and
 * reads of process counters at scrape.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
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
