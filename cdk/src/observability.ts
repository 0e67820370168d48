import { Duration, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { Construct } from "constructs";
import { AlarmTopic, ONE_MINUTE } from "./alarms";
import type { Cache } from "./cache";
import type { Cdn } from "./cdn";
import type { CommandLog } from "./command-log";
import type { Database } from "./database";
import type { ReadFleet } from "./read-fleet";
import type { Settings } from "./settings";
import {
  dlqMessagesIn,
  kafkaDiskUsed,
  logLineMetric,
  offsetLag,
  read5xxFilterPattern,
  timeLag,
} from "./signals";
import type { Worker } from "./worker";
import type { WriteApi } from "./write-api";

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
  read5xxPercent: 1,
  readOriginP99Ms: 100,
  lagSeconds: 30,
  dbCpuPercent: 80,
  cacheCpuPercent: 80,
  kafkaDiskPercent: 80,
} as const;

const sum = (m: cloudwatch.Metric) => m.with({ statistic: "Sum", period: ONE_MINUTE });

/** Alarms on 5xx, p99, consumer lag and DLQ, plus a dashboard of the whole path. */
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
    if (cdn !== undefined) {
      a.alarm(this, "Read5xx", {
        metric: cdn.distribution.metric5xxErrorRate({ period: ONE_MINUTE }),
        threshold: THRESHOLDS.read5xxPercent,
        description: "CloudFront answers 5xx for reads (origin errors or unreachable NLB)",
      });
      a.alarm(this, "ReadOriginP99", {
        metric: cdn.distribution.metricOriginLatency({ statistic: "p99", period: ONE_MINUTE }),
        threshold: THRESHOLDS.readOriginP99Ms,
        description: "Read p99 at the origin, as CloudFront measures it",
      });
    }

    a.alarm(this, "ConsumerLag", {
      metric: timeLag(commandLog),
      threshold: THRESHOLDS.lagSeconds,
      description: "Worker is behind on todo-commands: accepted writes are not visible yet",
    });
    a.alarm(this, "DlqMessages", {
      metric: dlqMessagesIn(commandLog),
      threshold: 0,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      description: "A command went to todo-commands.dlq (poison message): inspect it",
    });
    const workerTasks = new cloudwatch.Metric({
      namespace: "ECS/ContainerInsights",
      metricName: "RunningTaskCount",
      dimensionsMap: {
        ClusterName: worker.service.cluster.clusterName,
        ServiceName: worker.service.serviceName,
      },
      statistic: "Minimum",
      period: ONE_MINUTE,
    });
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
    const cacheCpu = new cloudwatch.Metric({
      namespace: "AWS/ElastiCache",
      metricName: "EngineCPUUtilization",
      dimensionsMap: { ReplicationGroupId: cache.replicationGroup.ref, Role: "Primary" },
      statistic: "Maximum",
      period: Duration.minutes(5),
    });
    a.alarm(this, "CacheCpu", {
      metric: cacheCpu,
      threshold: THRESHOLDS.cacheCpuPercent,
      evaluationPeriods: 3,
      description: "Redis primary engine CPU (single-threaded): too many fills or subscribers",
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
        "Read fleet: CPU %, healthy targets",
        [readFleet.service.metricCpuUtilization()],
        [healthyReaders],
      ),
      w("Read fleet: 5xx per minute", [readErrors]),
    );
    if (cdn !== undefined) {
      const d = cdn.distribution;
      this.dashboard.addWidgets(
        w(
          "CDN: requests, cache hit %",
          [d.metricRequests({ period: ONE_MINUTE })],
          [d.metricCacheHitRate({ period: ONE_MINUTE })],
        ),
        w(
          "CDN: 5xx %, origin p99 ms",
          [d.metric5xxErrorRate({ period: ONE_MINUTE })],
          [d.metricOriginLatency({ statistic: "p99", period: ONE_MINUTE })],
        ),
      );
    }
    this.dashboard.addWidgets(
      w("Writes: requests, 5xx", [writeRequests], [write5xx]),
      w("Writes: latency p99 ms", [writeP99]),
      w(
        "Write Lambdas: duration p99, throttles",
        fnMetrics.map((f) => f.metricDuration({ statistic: "p99", period: ONE_MINUTE })),
        fnMetrics.map((f) => f.metricThrottles({ period: ONE_MINUTE })),
      ),
      w("Worker: lag seconds, offsets", [timeLag(commandLog)], [offsetLag(commandLog)]),
      w("Worker: tasks, CPU %", [workerTasks], [worker.service.metricCpuUtilization()]),
      w(
        "DLQ messages in /s, Kafka disk %",
        [dlqMessagesIn(commandLog)],
        [kafkaDiskUsed(commandLog)],
      ),
      w(
        "Postgres: CPU %, connections",
        [database.instance.metricCPUUtilization()],
        [database.instance.metricDatabaseConnections()],
      ),
      w("Redis: engine CPU %", [cacheCpu]),
    );
  }
}
