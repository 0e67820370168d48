import { AggregatorRegistry, type PrometheusContentType, Registry } from "prom-client";

/** One metric of one process, as prom-client's getMetricsAsJSON() gives it: plain data, sent over IPC. */
export interface MetricSnapshot {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}
export type ProcessMetrics = readonly MetricSnapshot[];

const PROCESS_LABEL = "process";

/**
 * A gauge is a reading of one process (its generation, its L1, its event-loop
 * lag): each value gets the process's `process` label, so aggregation keeps one
 * series per process (and a gauge prom-client would omit or average, such as
 * process_start_time_seconds, is kept per process too).
 */
function gaugesPerProcess(metrics: ProcessMetrics, index: string): MetricSnapshot[] {
  return metrics.map((m) =>
    m.type !== "gauge"
      ? m
      : {
          ...m,
          aggregator: "sum",
          values: m.values.map((v) => ({ ...v, labels: { ...v.labels, [PROCESS_LABEL]: index } })),
        },
  );
}

/** The counters and histograms of a snapshot: what must keep counting after its process is gone. */
export function monotonicPart(metrics: ProcessMetrics): MetricSnapshot[] {
  return metrics.filter((m) => m.type === "counter" || m.type === "histogram");
}

/**
 * The fleet's exposition, merged with prom-client's AggregatorRegistry.aggregate:
 * counters summed across processes, histograms summed bucket by bucket, gauges one
 * series per process (`process` label). `retired` holds the last counters and
 * histograms seen from processes that have since exited, so a restart never makes
 * a fleet counter go down (which Prometheus would read as a reset). `own` is the
 * supervisor's registry (its names must not collide with the processes').
 */
export function mergeFleetMetrics(
  live: readonly { process: string; metrics: ProcessMetrics }[],
  retired: ProcessMetrics,
  own?: Registry,
): Registry<PrometheusContentType> {
  const parts: ProcessMetrics[] = live.map((p) => gaugesPerProcess(p.metrics, p.process));
  if (retired.length > 0) parts.push(retired);
  const merged = AggregatorRegistry.aggregate<PrometheusContentType>(parts as MetricSnapshot[][]);
  return own === undefined ? merged : Registry.merge([merged, own]);
}

/** Folds a departed process's counters and histograms into the retired totals (summed). */
export function retire(retired: ProcessMetrics, departed: ProcessMetrics): ProcessMetrics {
  const parts = [retired, monotonicPart(departed)].filter((p) => p.length > 0);
  if (parts.length === 0) return [];
  // Synchronous on purpose: an exit and a scrape may interleave at any await.
  const folded = AggregatorRegistry.aggregate(parts as MetricSnapshot[][]).getMetricsAsArray();
  return folded.map((m) => {
    const { name, help, type, aggregator, values } = m as unknown as MetricSnapshot;
    return { name, help, type, aggregator, values };
  });
}
