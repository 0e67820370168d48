import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { Cache } from "./cache";
import type { Database } from "./database";
import { repoImage } from "./images";
import { accept } from "./nag";
import type { Network } from "./network";
import { acceptEcrLogin } from "./one-off-task/one-off-task";
import { withRdsCa } from "./rds-ca";
import type { Settings } from "./settings";
import { readNetworkTargetBytesPerSec, readProcessesPerTask } from "./sizing";

export const READ_PORT = 8080;
export const READ_ADMIN_PORT = 9464;
/** The read fleet image's own command (read-fleet/Dockerfile), run after the RDS CA step. */
const READ_COMMAND = ["node", "--enable-source-maps", "dist/main.mjs"];
/** CloudFront's origin-facing servers: with the CDN on, the only ones the NLB admits. */
export const CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing";

export interface ReadFleetProps {
  network: Network;
  cluster: ecs.Cluster;
  database: Database;
  cache: Cache;
  /** The HMAC key of command ids (COMMAND_ID_SECRET), shared with the write API. */
  commandIdSecret: secretsmanager.ISecret;
  settings: Settings;
}

/** Bytes per second a service's tasks send, averaged per task (Container Insights). */
export function networkTxPerTask(service: ecs.FargateService): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: "ECS/ContainerInsights",
    metricName: "NetworkTxBytes",
    dimensionsMap: { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
    statistic: "Average",
    period: Duration.minutes(1),
  });
}

/** A command the container runs for its own liveness check (the image has no curl). */
export function nodeHttpCheck(port: number | string, path: string): string[] {
  return [
    "CMD",
    "node",
    "-e",
    `fetch('http://127.0.0.1:${port}${path}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
  ];
}

/**
 * The uWS read fleet on Fargate ARM64 behind a public NLB: one process per
 * vCPU, scaled on CPU and on bytes sent per task (a fleet answering 21 KB pages
 * runs out of network long before CPU). Only the NLB's security group may reach
 * port 8080; the NLB routes only to tasks whose /readyz answers 200; with the
 * CDN on, the NLB admits only CloudFront's origin-facing servers.
 */
export class ReadFleet extends Construct {
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly targetGroup: elbv2.NetworkTargetGroup;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;
  readonly scaling: ecs.ScalableTaskCount;

  constructor(scope: Construct, id: string, props: ReadFleetProps) {
    super(scope, id);
    const { network, settings, database, cache } = props;
    const { read } = settings.sizing;
    const processes = readProcessesPerTask(settings.sizing);
    this.securityGroup = network.securityGroup(this, "Sg", "Read fleet: HTTP from the NLB only");
    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: settings.logRetentionDays,
      removalPolicy: settings.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const taskDefinition = new ecs.FargateTaskDefinition(this, "Task", {
      cpu: read.vcpu * 1024,
      memoryLimitMiB: read.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    // The internet-facing fleet logs in as the read-only role.
    const db = database.containerAccess("reader", read.dbPoolPerProcess);
    const redis = cache.containerAccess();
    const container = taskDefinition.addContainer("read-fleet", {
      image: repoImage("read-fleet/Dockerfile"),
      command: withRdsCa(READ_COMMAND),
      portMappings: [{ containerPort: READ_PORT, name: "http" }],
      environment: {
        HTTP_PORT: String(READ_PORT),
        ADMIN_PORT: String(READ_ADMIN_PORT),
        READ_PROCESSES: String(processes),
        CACHE_TTL_SEC: String(settings.cacheTtlSec),
        CACHE_KEY_PREFIX: "todos",
        ...(settings.cacheControl && { CACHE_CONTROL: settings.cacheControl }),
        LOG_LEVEL: "info",
        ...db.environment,
        ...redis.environment,
      },
      secrets: {
        ...db.secrets,
        ...redis.secrets,
        COMMAND_ID_SECRET: ecs.Secret.fromSecretsManager(props.commandIdSecret),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: "read" }),
      // Liveness only: readiness (/readyz) is the NLB's decision, not a reason to kill a task.
      healthCheck: {
        command: nodeHttpCheck(READ_PORT, "/healthz"),
        interval: Duration.seconds(10),
        timeout: Duration.seconds(3),
        retries: 3,
        startPeriod: Duration.seconds(20),
      },
      stopTimeout: Duration.seconds(30),
    });
    accept(
      taskDefinition,
      "AwsSolutions-ECS2",
      "Environment holds only non-secret settings (ports, endpoints, cache TTLs, the public RDS CA); the Redis token, the Postgres password and COMMAND_ID_SECRET come through `secrets`.",
    );
    acceptEcrLogin(taskDefinition);
    // Every keep-alive client holds a socket: the default 1024 descriptors run out first.
    container.addUlimits({ name: ecs.UlimitName.NOFILE, softLimit: 65_536, hardLimit: 65_536 });

    this.service = new ecs.FargateService(this, "Service", {
      cluster: props.cluster,
      taskDefinition,
      // No desiredCount: a deploy at peak must not reset a scaled-out fleet to the minimum.
      // Auto scaling raises a new service to minTasks as soon as the target registers.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      securityGroups: [this.securityGroup],
      vpcSubnets: network.appSubnets,
      healthCheckGracePeriod: Duration.seconds(60),
    });
    database.allowFrom(this.service, "read fleet fills cache misses");
    cache.allowFrom(this.service, "read fleet L2 cache and invalidations");
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), "AWS APIs: ECR, logs");

    const nlbSecurityGroup = network.securityGroup(this, "NlbSg", "Read NLB: HTTP in");
    const anyone = settings.readAllowedCidr === "0.0.0.0/0";
    if (settings.sizing.cdn) {
      // Readers go through CloudFront; the NLB is its origin only (a second CIDR, e.g. a
      // load generator in the region, only when readAllowedCidr names one).
      const cloudFront = ec2.PrefixList.fromLookup(this, "CloudFrontOriginFacing", {
        prefixListName: CLOUDFRONT_ORIGIN_FACING,
      });
      nlbSecurityGroup.addIngressRule(
        ec2.Peer.prefixList(cloudFront.prefixListId),
        ec2.Port.tcp(80),
        "CloudFront origin-facing servers only (the CDN is on)",
      );
      if (!anyone) {
        nlbSecurityGroup.addIngressRule(
          ec2.Peer.ipv4(settings.readAllowedCidr),
          ec2.Port.tcp(80),
          "direct readers (context readAllowedCidr)",
        );
      }
    } else {
      nlbSecurityGroup.addIngressRule(
        ec2.Peer.ipv4(settings.readAllowedCidr),
        ec2.Port.tcp(80),
        "readers (context readAllowedCidr)",
      );
      if (anyone) {
        accept(
          nlbSecurityGroup,
          "AwsSolutions-EC23",
          "Without the CDN, GET /todos is a public read API served by the NLB itself: port 80 only is open to the internet; narrow it with -c readAllowedCidr or put CloudFront in front (-c cdn=true admits only its servers).",
        );
      }
    }
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, "Nlb", {
      vpc: network.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroups: [nlbSecurityGroup],
      crossZoneEnabled: true,
    });
    accept(
      this.loadBalancer,
      "AwsSolutions-ELB2",
      "NLB access logs are written only for TLS listeners; this listener is plain TCP. VPC flow logs (rejects) cover it, and with the CDN on (-c cdn=true) CloudFront's standard logs record every request.",
    );
    const listener = this.loadBalancer.addListener("Http", {
      port: 80,
      protocol: elbv2.Protocol.TCP,
    });
    this.targetGroup = listener.addTargets("ReadFleet", {
      port: READ_PORT,
      protocol: elbv2.Protocol.TCP,
      targets: [this.service.loadBalancerTarget({ containerName: "read-fleet" })],
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        protocol: elbv2.Protocol.HTTP,
        path: "/readyz",
        port: String(READ_PORT),
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        healthyHttpCodes: "200",
      },
    });
    this.securityGroup.connections.allowFrom(
      nlbSecurityGroup,
      ec2.Port.tcp(READ_PORT),
      "NLB traffic and /readyz health checks",
    );

    this.scaling = this.service.autoScaleTaskCount({
      minCapacity: read.minTasks,
      maxCapacity: read.maxTasks,
    });
    // Two target-tracking policies: the fleet grows when either CPU or bytes sent per
    // task pass their target, and shrinks only when both are below (how Application
    // Auto Scaling combines target tracking policies), so neither undoes the other.
    this.scaling.scaleOnCpuUtilization("Cpu", {
      targetUtilizationPercent: read.cpuTarget,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.minutes(5),
    });
    this.scaling.scaleToTrackCustomMetric("NetworkOut", {
      metric: networkTxPerTask(this.service),
      targetValue: readNetworkTargetBytesPerSec(settings.sizing),
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.minutes(5),
    });
  }

  /** `http://<nlb dns>` */
  get url(): string {
    return `http://${this.loadBalancer.loadBalancerDnsName}`;
  }
}
