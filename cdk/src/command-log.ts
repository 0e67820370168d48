import {
  DEFAULT_DLQ_TRIAGE_GROUP,
  DEFAULT_TODO_TOPIC,
  DEFAULT_WORKER_GROUP,
  dlqTopicOf,
} from "@million-rps/shared/config";
import { Aws, Fn, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import * as msk from "aws-cdk-lib/aws-msk";
import { Construct } from "constructs";
import type { Network } from "./network";
import type { Settings } from "./settings";
import { brokerCount } from "./sizing";

/** The SASL/IAM over TLS listener: the only one enabled. */
export const MSK_IAM_PORT = 9098;
/** The deployables' default names (shared/src/config.ts), which the grants and alarms name. */
export const TODO_TOPIC = DEFAULT_TODO_TOPIC;
export const DLQ_TOPIC = dlqTopicOf(TODO_TOPIC);
export const WORKER_GROUP = DEFAULT_WORKER_GROUP;
/**
 * A group nobody runs: the topics step commits its offsets at the DLQ's start once,
 * so MSK reports its lag on the DLQ, which is the DLQ's depth (messages nobody has
 * looked at). Triage = read them, then move this group's offsets to the end.
 */
export const DLQ_TRIAGE_GROUP = DEFAULT_DLQ_TRIAGE_GROUP;

/**
 * MSK (Kafka 3.9, KRaft by default) holding `todo-commands` and its DLQ. IAM auth only,
 * TLS everywhere. IAM resources are the cluster, one topic or one group, so
 * each caller is granted exactly the Kafka actions it performs.
 */
export class CommandLog extends Construct {
  readonly cluster: msk.CfnCluster;
  readonly securityGroup: ec2.SecurityGroup;
  readonly brokers: number;
  readonly replicationFactor: number;

  constructor(scope: Construct, id: string, network: Network, settings: Settings) {
    super(scope, id);
    const { kafka } = settings.sizing;
    const subnets = network.vpc.selectSubnets(network.appSubnets).subnetIds;
    this.brokers = brokerCount(settings.sizing, network.vpc.availabilityZones.length);
    this.replicationFactor = Math.min(3, this.brokers);
    this.securityGroup = network.securityGroup(this, "Sg", "MSK: IAM listener for the writers");
    const config = new msk.CfnConfiguration(this, "Config", {
      name: `${Stack.of(this).stackName}-commands`,
      description: "million-rps: topics are created by the topics task, never on first use",
      kafkaVersionsList: [kafka.version],
      serverProperties: [
        "auto.create.topics.enable=false",
        `default.replication.factor=${this.replicationFactor}`,
        // acks=all is only durable with a quorum: 2 of 3, or 1 of 2 on the small profile.
        `min.insync.replicas=${Math.max(1, this.replicationFactor - 1)}`,
        `num.partitions=${kafka.partitions}`,
        "unclean.leader.election.enable=false",
      ].join("\n"),
    });
    const brokerLogs = new logs.LogGroup(this, "BrokerLogs", {
      retention: settings.logRetentionDays,
      removalPolicy: settings.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.cluster = new msk.CfnCluster(this, "Cluster", {
      clusterName: `${Stack.of(this).stackName}-commands`,
      kafkaVersion: kafka.version,
      numberOfBrokerNodes: this.brokers,
      brokerNodeGroupInfo: {
        instanceType: kafka.instanceType,
        clientSubnets: subnets,
        securityGroups: [this.securityGroup.securityGroupId],
        storageInfo: { ebsStorageInfo: { volumeSize: kafka.volumeGiB } },
      },
      clientAuthentication: {
        sasl: { iam: { enabled: true } },
        unauthenticated: { enabled: false },
      },
      encryptionInfo: { encryptionInTransit: { clientBroker: "TLS", inCluster: true } },
      // The latest revision, so a changed setting (partitions, replication) reaches the brokers.
      configurationInfo: { arn: config.attrArn, revision: config.attrLatestRevisionRevision },
      // Per-topic rates (the DLQ alarm) need PER_TOPIC_PER_BROKER; consumer lag is in DEFAULT.
      enhancedMonitoring: "PER_TOPIC_PER_BROKER",
      loggingInfo: {
        brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: brokerLogs.logGroupName } },
      },
    });
    this.cluster.applyRemovalPolicy(
      settings.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    );
  }

  get clusterArn(): string {
    return this.cluster.attrArn;
  }

  /** The name part of the ARN, as MSK's CloudWatch metrics use it ("Cluster Name"). */
  get clusterName(): string {
    return Fn.select(1, Fn.split("/", this.cluster.attrArn));
  }

  /** arn:...:topic/<cluster>/<uuid>/<name> or group/...: derived from the cluster ARN. */
  private resourceArn(kind: "topic" | "group", name: string): string {
    const parts = Fn.split("/", this.cluster.attrArn);
    return Fn.join("", [
      `arn:${Aws.PARTITION}:kafka:${Aws.REGION}:${Aws.ACCOUNT_ID}:${kind}/`,
      Fn.select(1, parts),
      "/",
      Fn.select(2, parts),
      `/${name}`,
    ]);
  }

  topicArn(topic: string): string {
    return this.resourceArn("topic", topic);
  }

  groupArn(group: string): string {
    return this.resourceArn("group", group);
  }

  /** Connect, and resolve the IAM bootstrap brokers once per process. */
  grantConnect(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["kafka-cluster:Connect", "kafka:GetBootstrapBrokers"],
      resourceArns: [this.clusterArn],
    });
  }

  /** `idempotent`: kafkajs's idempotent producer (InitProducerId) needs WriteDataIdempotently on the cluster. */
  grantProduce(
    grantee: iam.IGrantable,
    topic: string,
    options: { idempotent?: boolean } = {},
  ): void {
    this.grantConnect(grantee);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
      resourceArns: [this.topicArn(topic)],
    });
    if (options.idempotent) {
      iam.Grant.addToPrincipal({
        grantee,
        actions: ["kafka-cluster:WriteDataIdempotently"],
        resourceArns: [this.clusterArn],
      });
    }
  }

  grantConsume(grantee: iam.IGrantable, topic: string, group: string): void {
    this.grantConnect(grantee);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
      resourceArns: [this.topicArn(topic)],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
      resourceArns: [this.groupArn(group)],
    });
  }

  /**
   * The topics step: create the topics, add partitions when the count grew
   * (CreatePartitions is AlterTopic), and seed the DLQ triage group's offsets
   * (OffsetFetch/OffsetCommit: DescribeGroup/AlterGroup on it, ReadData on the DLQ).
   */
  grantTopicSetup(
    grantee: iam.IGrantable,
    topics: readonly string[],
    triage: { group: string; topic: string },
  ): void {
    this.grantConnect(grantee);
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        "kafka-cluster:AlterTopic",
        "kafka-cluster:CreateTopic",
        "kafka-cluster:DescribeTopic",
      ],
      resourceArns: topics.map((t) => this.topicArn(t)),
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["kafka-cluster:ReadData"],
      resourceArns: [this.topicArn(triage.topic)],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
      resourceArns: [this.groupArn(triage.group)],
    });
  }

  /** Environment for kafkajs through the shared `createKafka` (MSK ARN + IAM auth). */
  get clientEnvironment(): Record<string, string> {
    return {
      MSK_CLUSTER_ARN: this.clusterArn,
      KAFKA_AUTH: "aws-iam",
      KAFKA_TODO_TOPIC: TODO_TOPIC,
    };
  }

  allowFrom(peer: ec2.IConnectable, why: string): void {
    this.securityGroup.connections.allowFrom(peer, ec2.Port.tcp(MSK_IAM_PORT), why);
  }
}
