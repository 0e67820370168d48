import { Aws, Duration, RemovalPolicy } from "aws-cdk-lib";
import * as appscaling from "aws-cdk-lib/aws-applicationautoscaling";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { Cache } from "./cache";
import { type CommandLog, DLQ_TOPIC, TODO_TOPIC, WORKER_GROUP } from "./command-log";
import type { Database } from "./database";
import { accept } from "./nag";
import type { Network } from "./network";
import { acceptEcrLogin } from "./one-off-task/one-off-task";
import { withRdsCa } from "./rds-ca";
import { nodeHttpCheck } from "./read-fleet";
import type { Settings } from "./settings";
import { workerDbPool } from "./sizing";

export const WORKER_ADMIN_PORT = 9465;
/** The worker image's own command (worker/Dockerfile), run after the RDS CA step. */
const WORKER_COMMAND = ["node", "--enable-source-maps", "dist/main.mjs"];
/**
 * Uncommitted commands per worker task the lag policy aims at: about one second of
 * one task's apply rate (≥ 10,000 commands/s), so a backlog adds tasks within minutes.
 */
export const LAG_PER_TASK_TARGET = 10_000;

export interface WorkerProps {
  network: Network;
  cluster: ecs.Cluster;
  image: ecs.ContainerImage;
  database: Database;
  cache: Cache;
  commandLog: CommandLog;
  settings: Settings;
}

/** MSK's consumer lag for the worker group on the command topic (DEFAULT monitoring level). */
export function consumerLagMetric(commandLog: CommandLog, stat = "Maximum"): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: "AWS/Kafka",
    metricName: "SumOffsetLag",
    dimensionsMap: {
      "Cluster Name": commandLog.clusterName,
      "Consumer Group": WORKER_GROUP,
      Topic: TODO_TOPIC,
    },
    statistic: stat,
    period: Duration.minutes(1),
  });
}

/**
 * The Kafka -> Postgres worker. Scales on CPU and on consumer lag per task (two
 * target-tracking policies: out when either is above target, in only when both
 * are below), never past the partition count (a consumer without a partition
 * only costs money). IAM: read the command topic as group `todo-workers`, write
 * the DLQ; nothing else. Postgres: the application role, never the master user.
 */
export class Worker extends Construct {
  readonly service: ecs.FargateService;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;
  readonly taskDefinition: ecs.FargateTaskDefinition;

  constructor(scope: Construct, id: string, props: WorkerProps) {
    super(scope, id);
    const { network, settings, database, cache, commandLog } = props;
    const { worker, kafka } = settings.sizing;
    this.securityGroup = network.securityGroup(
      this,
      "Sg",
      "Worker: no inbound; out to data stores",
    );
    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: settings.logRetentionDays,
      removalPolicy: settings.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, "Task", {
      cpu: worker.vcpu * 1024,
      memoryLimitMiB: worker.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    // One transaction per partition in flight, plus one connection for the cache refill.
    const db = database.containerAccess("app", workerDbPool(settings.sizing));
    const redis = cache.containerAccess();
    this.taskDefinition.addContainer("worker", {
      image: props.image,
      command: withRdsCa(WORKER_COMMAND),
      environment: {
        ...commandLog.clientEnvironment,
        AWS_REGION: Aws.REGION,
        KAFKA_DLQ_TOPIC: DLQ_TOPIC,
        KAFKA_GROUP_ID: WORKER_GROUP,
        KAFKA_PARTITIONS: String(kafka.partitions),
        WORKER_CONCURRENCY: String(worker.concurrency),
        CACHED_PAGES_PUSH_BYTES: String(worker.cachedPagesPushBytes),
        ADMIN_PORT: String(WORKER_ADMIN_PORT),
        CACHE_TTL_SEC: String(settings.cacheTtlSec),
        CACHE_KEY_PREFIX: "todos",
        LOG_LEVEL: "info",
        ...db.environment,
        ...redis.environment,
      },
      secrets: { ...db.secrets, ...redis.secrets },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: "worker" }),
      healthCheck: {
        command: nodeHttpCheck(WORKER_ADMIN_PORT, "/healthz"),
        interval: Duration.seconds(15),
        timeout: Duration.seconds(3),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      // SIGTERM: finish the batch, commit offsets, leave the group.
      stopTimeout: Duration.seconds(60),
    });
    accept(
      this.taskDefinition,
      "AwsSolutions-ECS2",
      "Environment holds only non-secret settings (MSK ARN, topics, concurrency and pool sizes, the public RDS CA); the Redis token and Postgres password come through `secrets`.",
    );
    acceptEcrLogin(this.taskDefinition);
    commandLog.grantConsume(this.taskDefinition.taskRole, TODO_TOPIC, WORKER_GROUP);
    commandLog.grantProduce(this.taskDefinition.taskRole, DLQ_TOPIC);

    this.service = new ecs.FargateService(this, "Service", {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      securityGroups: [this.securityGroup],
      vpcSubnets: network.appSubnets,
    });
    database.allowFrom(this.service, "worker applies batches");
    cache.allowFrom(this.service, "worker bumps generations, refills hot pages");
    commandLog.allowFrom(this.service, "worker consumes commands, writes the DLQ");
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), "AWS APIs: ECR, MSK");

    const scaling = this.service.autoScaleTaskCount({
      minCapacity: worker.minTasks,
      maxCapacity: worker.maxTasks,
    });
    scaling.scaleOnCpuUtilization("Cpu", {
      targetUtilizationPercent: 60,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.minutes(5),
    });
    // Lag per task = SumOffsetLag / running tasks: target tracking on a metric-math
    // expression, which the L2 construct cannot render; its metric is replaced below.
    scaling.scaleToTrackCustomMetric("LagPerTask", {
      metric: consumerLagMetric(commandLog),
      targetValue: LAG_PER_TASK_TARGET,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.minutes(5),
    });
    const cfn = this.service.node
      .findAll()
      .find(
        (c): c is appscaling.CfnScalingPolicy =>
          c instanceof appscaling.CfnScalingPolicy && c.node.path.includes("/LagPerTask/"),
      );
    if (cfn === undefined) throw new Error("the LagPerTask scaling policy was not created");
    cfn.addPropertyOverride(
      "TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification",
      lagPerTaskSpecification(commandLog, this.service),
    );
  }
}

/** `lag / tasks` as a target-tracking metric query (tasks from Container Insights, never 0). */
export function lagPerTaskSpecification(
  commandLog: CommandLog,
  service: ecs.FargateService,
): Record<string, unknown> {
  const stat = (
    id: string,
    namespace: string,
    metricName: string,
    dims: Record<string, string>,
    stat: string,
  ) => ({
    Id: id,
    ReturnData: false,
    MetricStat: {
      Metric: {
        Namespace: namespace,
        MetricName: metricName,
        Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })),
      },
      Stat: stat,
    },
  });
  return {
    Metrics: [
      stat(
        "lag",
        "AWS/Kafka",
        "SumOffsetLag",
        {
          "Cluster Name": commandLog.clusterName,
          "Consumer Group": WORKER_GROUP,
          Topic: TODO_TOPIC,
        },
        "Maximum",
      ),
      stat(
        "tasks",
        "ECS/ContainerInsights",
        "RunningTaskCount",
        { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
        "Average",
      ),
      {
        Id: "lagPerTask",
        Expression: "IF(tasks > 0, lag / tasks, lag)",
        Label: "uncommitted commands per worker task",
        ReturnData: true,
      },
    ],
  };
}
