import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { WriteMetrics } from "./write-metrics";

/**
 * The write path's metrics as CloudWatch EMF (Powertools Metrics), flushed once per
 * invocation (lambda.ts). Accepted and refused writes, 503s and send latency; a
 * refused write carries its reason as a dimension (one invocation answers once, so
 * the dimension never lands on another invocation's metrics).
 */
export function emfWriteMetrics(metrics: Metrics): WriteMetrics {
  return {
    answered(status, code) {
      if (status < 400) metrics.addMetric("WritesAccepted", MetricUnit.Count, 1);
      else if (status < 500) {
        metrics.addDimension("reason", code ?? String(status));
        metrics.addMetric("WritesRefused", MetricUnit.Count, 1);
      } else if (status === 503) metrics.addMetric("WritesUnavailable", MetricUnit.Count, 1);
      else metrics.addMetric("WritesFailed", MetricUnit.Count, 1);
    },
    sent(ms, acknowledged) {
      metrics.addMetric(
        acknowledged ? "SendLatency" : "SendFailedLatency",
        MetricUnit.Milliseconds,
        ms,
      );
    },
  };
}
