import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as logs from "aws-cdk-lib/aws-logs";
import {
  type CommandLog,
  DLQ_TOPIC,
  DLQ_TRIAGE_GROUP,
  TODO_TOPIC,
  WORKER_GROUP,
} from "./command-log";

/** Custom metrics from log filters live here. */
export const METRIC_NAMESPACE = "MillionRps";

const minute = Duration.minutes(1);

/** MSK metrics are per cluster name, with spaces in the dimension names. */
function kafkaMetric(
  commandLog: CommandLog,
  metricName: string,
  dims: Record<string, string>,
  statistic: string,
  period = minute,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: "AWS/Kafka",
    metricName,
    dimensionsMap: { "Cluster Name": commandLog.clusterName, ...dims },
    statistic,
    period,
  });
}

/** Seconds the worker group is behind on the command topic: the freshness of reads. */
export function timeLag(commandLog: CommandLog): cloudwatch.Metric {
  return kafkaMetric(
    commandLog,
    "EstimatedMaxTimeLag",
    { "Consumer Group": WORKER_GROUP, Topic: TODO_TOPIC },
    "Maximum",
  );
}

/** Messages the worker group has not committed yet, over all partitions. */
export function offsetLag(commandLog: CommandLog): cloudwatch.Metric {
  return kafkaMetric(
    commandLog,
    "SumOffsetLag",
    { "Consumer Group": WORKER_GROUP, Topic: TODO_TOPIC },
    "Maximum",
  );
}

/**
 * Messages written to the DLQ per second, summed over brokers (per-topic rates
 * exist only per broker). A healthy system writes none: any is a poison message.
 */
export function dlqMessagesIn(commandLog: CommandLog): cloudwatch.MathExpression {
  const usingMetrics: Record<string, cloudwatch.IMetric> = {};
  for (let broker = 1; broker <= commandLog.brokers; broker++) {
    usingMetrics[`b${broker}`] = kafkaMetric(
      commandLog,
      "MessagesInPerSec",
      { "Broker ID": String(broker), Topic: DLQ_TOPIC },
      "Maximum",
    );
  }
  // FILL(..., 0): a broker that leads no DLQ partition reports nothing.
  const expression = Object.keys(usingMetrics)
    .map((id) => `FILL(${id}, 0)`)
    .join(" + ");
  return new cloudwatch.MathExpression({
    expression,
    usingMetrics,
    label: "DLQ messages in /s",
    period: minute,
  });
}

/**
 * DLQ depth: the triage group's lag on the DLQ, i.e. dead letters nobody has looked
 * at. It stays up until someone triages (moves the group's offsets to the end),
 * where an arrival rate would fall back to zero by itself.
 */
export function dlqDepth(commandLog: CommandLog): cloudwatch.Metric {
  return kafkaMetric(
    commandLog,
    "SumOffsetLag",
    { "Consumer Group": DLQ_TRIAGE_GROUP, Topic: DLQ_TOPIC },
    "Maximum",
  );
}

/** Per-broker metrics combined by `combine` (SUM or MAX) into one series. */
function acrossBrokers(
  commandLog: CommandLog,
  metricName: string,
  combine: "SUM" | "MAX",
  label: string,
  period = minute,
): cloudwatch.MathExpression {
  const usingMetrics: Record<string, cloudwatch.IMetric> = {};
  for (let broker = 1; broker <= commandLog.brokers; broker++) {
    usingMetrics[`k${broker}`] = kafkaMetric(
      commandLog,
      metricName,
      { "Broker ID": String(broker) },
      "Maximum",
      period,
    );
  }
  return new cloudwatch.MathExpression({
    expression: `${combine}([${Object.keys(usingMetrics).join(", ")}])`,
    usingMetrics,
    label,
    period,
  });
}

/** Partitions whose followers fell out of sync, over all brokers: durability at risk. */
export function underReplicatedPartitions(commandLog: CommandLog): cloudwatch.MathExpression {
  return acrossBrokers(
    commandLog,
    "UnderReplicatedPartitions",
    "SUM",
    "under-replicated partitions",
  );
}

/** Partitions without a leader: writes to them fail (503) and the worker stalls on them. */
export function offlinePartitions(commandLog: CommandLog): cloudwatch.Metric {
  return kafkaMetric(commandLog, "OfflinePartitionsCount", {}, "Maximum");
}

/** Broker disk use, the one MSK resource that fills silently. */
export function kafkaDiskUsed(commandLog: CommandLog): cloudwatch.MathExpression {
  const usingMetrics: Record<string, cloudwatch.IMetric> = {};
  for (let broker = 1; broker <= commandLog.brokers; broker++) {
    usingMetrics[`d${broker}`] = kafkaMetric(
      commandLog,
      "KafkaDataLogsDiskUsed",
      { "Broker ID": String(broker) },
      "Maximum",
      Duration.minutes(5),
    );
  }
  return new cloudwatch.MathExpression({
    expression: `MAX([${Object.keys(usingMetrics).join(", ")}])`,
    usingMetrics,
    label: "Kafka data disk used % (max broker)",
    period: Duration.minutes(5),
  });
}

/**
 * The read fleet logs every 5xx it answers (read-fleet/src/routes.ts): a 500
 * as `level: error`, a 503 as one of these warnings (nothing cached to serve
 * and the dependency failed). The NLB sees TCP only, so these lines are the
 * read path's 5xx count without the CDN.
 */
export const READ_5XX_MESSAGES = [
  "page fill failed with nothing cached to serve",
  "todo fill failed with nothing cached to serve",
  "command status lookup failed",
] as const;

export function read5xxFilterPattern(): string {
  const messages = READ_5XX_MESSAGES.map((m) => `($.msg = "${m}")`);
  return `{ ($.level = "error") || ${messages.join(" || ")} }`;
}

/** Lines of a service's JSON logs (`createLogger`) matching `pattern`, as a count per minute. */
export function logLineMetric(
  logGroup: logs.LogGroup,
  name: string,
  pattern: string,
): cloudwatch.Metric {
  const filter = logGroup.addMetricFilter(`${name}Filter`, {
    filterPattern: { logPatternString: pattern },
    metricNamespace: METRIC_NAMESPACE,
    metricName: name,
    metricValue: "1",
    defaultValue: 0,
  });
  return filter.metric({ statistic: "Sum", period: minute });
}
