import { Duration, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import { Construct } from "constructs";
import { AlarmTopic, ONE_MINUTE } from "./alarms";
import type { Cache } from "./cache";
import type { Cdn } from "./cdn";
import { CdnAlarms, CLOUDFRONT_METRICS_REGION, cloudFrontMetric } from "./cdn-alarms";
import type { CommandLog } from "./command-log";
import type { Database } from "./database";
import type { ReadFleet } from "./read-fleet";
import { networkTxPerTask } from "./read-fleet";
import type { Settings } from "./settings";
import {
  dlqDepth,
  dlqMessagesIn,
  kafkaDiskUsed,
  logLineMetric,
  offlinePartitions,
  offsetLag,
  read5xxFilterPattern,
  timeLag,
  underReplicatedPartitions,
} from "./signals";
import { maxConnections } from "./sizing";
import type { Worker } from "./worker";
import { WRITE_METRICS, type WriteApi, writeMetric } from "./write-api";

export interface ObservabilityProps {
  settings: Settings;
  readFleet: ReadFleet;
  worker: Worker;
  writeApi: WriteApi;
  commandLog: CommandLog;
  database: Database;
  cache: Cache;
  cdn: Cdn | undefined;
}

/** Thresholds: what "broken" means for each signal. */
export const THRESHOLDS = {
  write5xxPercent: 1,
  writeP99Ms: 1000,
  read5xxLinesPerMinute: 10,
  /** Below this share of running read tasks passing /readyz, some are failing. */
  readHealthyPercent: 75,
  lagSeconds: 30,
  dbCpuPercent: 80,
  /** Of the instance's max_connections (estimated, sizing.ts). */
  dbConnectionsPercent: 80,
  /** Of the allocated storage (autoscaling adds storage at 10 % free). */
  dbFreeStoragePercent: 10,
  cacheCpuPercent: 80,
  cacheMemoryPercent: 80,
  kafkaDiskPercent: 80,
} as const;

/** One metric per cache node combined into one series (the primary moves on failover). */
function acrossNodes(
  cache: Cache,
  metricName: string,
  combine: "MAX" | "SUM",
  label: string,
  period = ONE_MINUTE,
): cloudwatch.MathExpression {
  const usingMetrics: Record<string, cloudwatch.IMetric> = {};
  // Ids unique per metric: two of these may share a graph.
  const prefix = metricName.replace(/[^A-Z]/g, "").toLowerCase();
  cache.nodeIds.forEach((node, i) => {
    usingMetrics[`${prefix}${i + 1}`] = new cloudwatch.Metric({
      namespace: "AWS/ElastiCache",
      metricName,
      dimensionsMap: { CacheClusterId: node },
      statistic: "Maximum",
      period,
    });
  });
  return new cloudwatch.MathExpression({
    expression: `${combine}([${Object.keys(usingMetrics).join(", ")}])`,
    usingMetrics,
    label,
    period,
  });
}

const sum = (m: cloudwatch.Metric) => m.with({ statistic: "Sum", period: ONE_MINUTE });

/** Tasks a service runs (Container Insights), the least in each minute. */
function runningTasks(service: ecs.FargateService): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: "ECS/ContainerInsights",
    metricName: "RunningTaskCount",
    dimensionsMap: { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
    statistic: "Minimum",
    period: ONE_MINUTE,
  });
}

/**
 * Alarms on what breaks the path (5xx, p99, lost targets, lag, dead letters, the
 * data stores' limits, throttles), all to the alarm topic, plus a dashboard of
 * the whole path. CDN alarms live in us-east-1, where CloudFront's metrics are.
 */
export class Observability extends Construct {
  readonly alarms: AlarmTopic;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { writeApi, readFleet, worker, commandLog, database, cache, cdn, settings } = props;
    this.alarms = new AlarmTopic(this, "Alarms", settings.alarmEmail);
    const a = this.alarms;

    const writeRequests = sum(writeApi.stage.metricCount());
    const write5xx = sum(writeApi.stage.metricServerError());
    const write5xxRate = new cloudwatch.MathExpression({
      expression: "IF(requests > 0, 100 * errors / requests, 0)",
      usingMetrics: { requests: writeRequests, errors: write5xx },
      label: "write 5xx %",
      period: ONE_MINUTE,
    });
    const writeP99 = writeApi.stage.metricLatency({ statistic: "p99", period: ONE_MINUTE });
    a.alarm(this, "Write5xx", {
      metric: write5xxRate,
      threshold: THRESHOLDS.write5xxPercent,
      description:
        "Write API answers 5xx (Kafka unreachable answers 503: check MSK and the Lambdas)",
    });
    a.alarm(this, "WriteP99", {
      metric: writeP99,
      threshold: THRESHOLDS.writeP99Ms,
      description: "Write API p99 latency (includes the Kafka acks=all wait)",
    });

    const readErrors = logLineMetric(
      readFleet.logGroup,
      "ReadFleet5xxLines",
      read5xxFilterPattern(),
    );
    a.alarm(this, "Read5xxLines", {
      metric: readErrors,
      threshold: THRESHOLDS.read5xxLinesPerMinute,
      description:
        "Read fleet answers 5xx (it logs each one): Redis and Postgres failing with a cold cache, or a handler error",
    });
    const healthyReaders = readFleet.targetGroup.metrics.healthyHostCount({
      statistic: "Minimum",
      period: ONE_MINUTE,
    });
    a.alarm(this, "ReadNoHealthyTargets", {
      metric: healthyReaders,
      threshold: 1,
      below: true,
      missingIsBreach: true,
      description: "No read task passes /readyz: the NLB has nowhere to send GET /todos",
    });
    const runningReaders = runningTasks(readFleet.service);
    a.alarm(this, "ReadHealthyShare", {
      metric: new cloudwatch.MathExpression({
        expression: "IF(running > 0, 100 * healthy / running, 100)",
        usingMetrics: { healthy: healthyReaders, running: runningReaders },
        label: "read tasks passing /readyz, % of running",
        period: ONE_MINUTE,
      }),
      threshold: THRESHOLDS.readHealthyPercent,
      below: true,
      description:
        "Some read tasks fail /readyz (Redis unreachable with a cold cache, or crashing): the rest carry their load",
    });
    // CloudFront's metrics exist only in us-east-1: the alarms live there (EdgeAlarmsStack otherwise).
    if (cdn !== undefined && Stack.of(this).region === CLOUDFRONT_METRICS_REGION) {
      new CdnAlarms(this, "Cdn", cdn.distribution.distributionId, a);
    }

    a.alarm(this, "ConsumerLag", {
      metric: timeLag(commandLog),
      threshold: THRESHOLDS.lagSeconds,
      description: "Worker is behind on todo-commands: accepted writes are not visible yet",
    });
    a.alarm(this, "DlqDepth", {
      metric: dlqDepth(commandLog),
      threshold: 0,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      // No figure at all means the triage group is gone (its offsets are set by the topics step).
      missingIsBreach: true,
      description:
        "Dead letters nobody has triaged in todo-commands.dlq (group todo-dlq-triage): read them, then move the group to the end (cdk/DEPLOY.md)",
    });
    a.alarm(this, "KafkaUnderReplicated", {
      metric: underReplicatedPartitions(commandLog),
      threshold: 0,
      description:
        "MSK partitions with followers out of sync: acks=all writes wait, a broker loss could lose data",
    });
    a.alarm(this, "KafkaOfflinePartitions", {
      metric: offlinePartitions(commandLog),
      threshold: 0,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      description:
        "MSK partitions without a leader: writes to them answer 503 and the worker stalls",
    });
    // A 5xx other than 503 is a handler bug (503 is Kafka or the Idempotency-Key store
    // away, which Write5xx watches): from the handlers' own EMF metrics.
    const writeFailures = writeMetric("WritesFailed", "Sum");
    a.alarm(this, "WriteFailures", {
      metric: writeFailures,
      threshold: 0,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description:
        "Write handlers answered 500 (not 503): a bug or an unexpected error; see the write Lambdas' logs",
    });
    const throttles = Object.fromEntries(
      Object.entries(writeApi.functions).map(([route, f]) => [
        route,
        f.metricThrottles({ statistic: "Sum", period: ONE_MINUTE }),
      ]),
    );
    a.alarm(this, "WriteThrottles", {
      metric: new cloudwatch.MathExpression({
        expression: Object.keys(throttles)
          .map((id) => `FILL(${id}, 0)`)
          .join(" + "),
        usingMetrics: throttles,
        label: "write Lambda throttles per minute",
        period: ONE_MINUTE,
      }),
      threshold: 0,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description:
        "Write Lambdas hit their reserved concurrency (sized to MSK's IAM connection limits): writes answer 5xx/429",
    });
    const workerTasks = runningTasks(worker.service);
    a.alarm(this, "WorkerDown", {
      metric: workerTasks,
      threshold: 1,
      below: true,
      missingIsBreach: true,
      description: "No worker task runs: commands pile up in Kafka",
    });

    a.alarm(this, "DatabaseCpu", {
      metric: database.instance.metricCPUUtilization({ period: Duration.minutes(5) }),
      threshold: THRESHOLDS.dbCpuPercent,
      evaluationPeriods: 3,
      description: "Postgres CPU: cache fills or worker batches saturate it",
    });
    const dbClass = settings.sizing.database.instanceClass;
    a.alarm(this, "DatabaseConnections", {
      metric: database.instance.metricDatabaseConnections({
        statistic: "Maximum",
        period: ONE_MINUTE,
      }),
      threshold: Math.floor((maxConnections(dbClass) * THRESHOLDS.dbConnectionsPercent) / 100),
      description: `Postgres connections near ${dbClass}'s max_connections (~${maxConnections(dbClass)}): new pool connections will be refused`,
    });
    a.alarm(this, "DatabaseStorage", {
      metric: database.instance.metricFreeStorageSpace({
        statistic: "Minimum",
        period: Duration.minutes(5),
      }),
      threshold: Math.floor(
        (settings.sizing.database.storageGiB * 2 ** 30 * THRESHOLDS.dbFreeStoragePercent) / 100,
      ),
      below: true,
      evaluationPeriods: 3,
      description:
        "Postgres free storage under 10 % of the allocation (autoscaling grows it up to 4x, then writes stop)",
    });
    const cacheCpu = acrossNodes(
      cache,
      "EngineCPUUtilization",
      "MAX",
      "Redis engine CPU % (max node)",
      Duration.minutes(5),
    );
    a.alarm(this, "CacheCpu", {
      metric: cacheCpu,
      threshold: THRESHOLDS.cacheCpuPercent,
      evaluationPeriods: 3,
      description: "Redis engine CPU (single-threaded) on some node: too many fills or subscribers",
    });
    const cacheMemory = acrossNodes(
      cache,
      "DatabaseMemoryUsagePercentage",
      "MAX",
      "Redis memory used % (max node)",
    );
    a.alarm(this, "CacheMemory", {
      metric: cacheMemory,
      threshold: THRESHOLDS.cacheMemoryPercent,
      description: "Redis memory near maxmemory: evictions drop cached pages and idempotency keys",
    });
    a.alarm(this, "CacheNetworkOut", {
      metric: acrossNodes(
        cache,
        "NetworkBandwidthOutAllowanceExceeded",
        "SUM",
        "Redis packets shaped: bandwidth out allowance",
      ),
      threshold: 0,
      description:
        "A Redis node exceeds its network bandwidth allowance: packets are queued or dropped (fills and pub/sub slow down)",
    });
    a.alarm(this, "CachePacketsPerSecond", {
      metric: acrossNodes(
        cache,
        "NetworkPacketsPerSecondAllowanceExceeded",
        "SUM",
        "Redis packets shaped: packets per second allowance",
      ),
      threshold: 0,
      description:
        "A Redis node exceeds its packets-per-second allowance: packets are queued or dropped",
    });
    a.alarm(this, "KafkaDisk", {
      metric: kafkaDiskUsed(commandLog),
      threshold: THRESHOLDS.kafkaDiskPercent,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      description: "MSK broker data disk filling up (raise kafkaVolumeGiB or retention)",
    });

    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      dashboardName: Stack.of(this).stackName,
      defaultInterval: Duration.hours(3),
    });
    const w = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
    const nlb = readFleet.loadBalancer.metrics;
    const fnMetrics = Object.values(writeApi.functions);
    this.dashboard.addWidgets(
      w(
        "Reads: NLB",
        [nlb.newFlowCount({ period: ONE_MINUTE })],
        [nlb.processedBytes({ period: ONE_MINUTE })],
      ),
      w(
        "Read fleet: CPU %, bytes sent per task /s",
        [readFleet.service.metricCpuUtilization()],
        [networkTxPerTask(readFleet.service)],
      ),
      w("Read fleet: running tasks, healthy targets", [runningReaders], [healthyReaders]),
      w("Read fleet: 5xx per minute", [readErrors]),
    );
    if (cdn !== undefined) {
      // Dashboards may show other regions' metrics: these come from us-east-1, Region=Global.
      const id = cdn.distribution.distributionId;
      this.dashboard.addWidgets(
        w(
          "CDN: requests, cache hit %",
          [cloudFrontMetric(id, "Requests", "Sum")],
          [cloudFrontMetric(id, "CacheHitRate", "Average")],
        ),
        w(
          "CDN: 5xx %, origin p99 ms",
          [cloudFrontMetric(id, "5xxErrorRate", "Average")],
          [cloudFrontMetric(id, "OriginLatency", "p99")],
        ),
      );
    }
    this.dashboard.addWidgets(
      w("Writes: requests, 5xx", [writeRequests], [write5xx]),
      w("Writes: latency p99 ms", [writeP99]),
      w(
        "Write handlers (EMF): accepted, 503, 500 per minute",
        [writeMetric("WritesAccepted", "Sum")],
        [writeMetric("WritesUnavailable", "Sum"), writeFailures],
      ),
      w(
        "Write handlers (EMF): Kafka send p50, p99 ms; refused by reason",
        [writeMetric("SendLatency", "p50"), writeMetric("SendLatency", "p99")],
        [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${WRITE_METRICS.namespace},reason,service} MetricName="WritesRefused"', 'Sum', 60)`,
            label: "refused",
            period: ONE_MINUTE,
          }),
        ],
      ),
      w(
        "Write Lambdas: duration p99, throttles",
        fnMetrics.map((f) => f.metricDuration({ statistic: "p99", period: ONE_MINUTE })),
        fnMetrics.map((f) => f.metricThrottles({ period: ONE_MINUTE })),
      ),
      w("Worker: lag seconds, offsets", [timeLag(commandLog)], [offsetLag(commandLog)]),
      w("Worker: tasks, CPU %", [workerTasks], [worker.service.metricCpuUtilization()]),
      w("DLQ depth (untriaged), arrivals /s", [dlqDepth(commandLog)], [dlqMessagesIn(commandLog)]),
      w(
        "Kafka: disk %, under-replicated and offline partitions",
        [kafkaDiskUsed(commandLog)],
        [underReplicatedPartitions(commandLog), offlinePartitions(commandLog)],
      ),
      w(
        "Postgres: CPU %, connections",
        [database.instance.metricCPUUtilization()],
        [database.instance.metricDatabaseConnections()],
      ),
      w("Redis: engine CPU %, memory %", [cacheCpu], [cacheMemory]),
    );
  }
}
