import { RemovalPolicy, Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elasticache from "aws-cdk-lib/aws-elasticache";
import * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { accept } from "./nag";
import type { Network } from "./network";
import type { Settings } from "./settings";

export const REDIS_PORT = 6379;

/**
 * ElastiCache Redis, cluster mode disabled (the fleet uses one primary for
 * pub/sub, Lua and the generation counter), TLS in transit and at rest, AUTH
 * token generated in Secrets Manager. The template carries only a dynamic
 * reference to the token; tasks receive it as the ECS secret REDIS_PASSWORD.
 */
export class Cache extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  readonly authToken: secretsmanager.Secret;
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  /**
   * The node (member cluster) ids, `<group>-001`...: ElastiCache publishes its
   * host and engine metrics per node (CacheClusterId), and which one is primary
   * changes on failover, so alarms watch them all.
   */
  readonly nodeIds: string[];

  constructor(scope: Construct, id: string, network: Network, settings: Settings) {
    super(scope, id);
    const { cache } = settings.sizing;
    this.securityGroup = network.securityGroup(
      this,
      "Sg",
      "Redis: only the read fleet, worker, write API and seed task",
    );
    this.authToken = new secretsmanager.Secret(this, "AuthToken", {
      description: "million-rps ElastiCache AUTH token (REDIS_PASSWORD)",
      // ElastiCache tokens: 16..128 printable characters, no @ " or /.
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    const subnets = new elasticache.CfnSubnetGroup(this, "Subnets", {
      description: "million-rps cache: isolated data subnets",
      subnetIds: network.vpc.selectSubnets(network.dataSubnets).subnetIds,
    });
    const slowLog = new logs.LogGroup(this, "SlowLog", {
      retention: settings.logRetentionDays,
      removalPolicy: settings.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // Named, so the node ids (and their metrics) are known at synth.
    const replicationGroupId = `${Stack.of(this).stackName}-redis`.toLowerCase();
    const nodes = 1 + cache.replicas;
    this.nodeIds = Array.from(
      { length: nodes },
      (_, i) => `${replicationGroupId}-${String(i + 1).padStart(3, "0")}`,
    );
    this.replicationGroup = new elasticache.CfnReplicationGroup(this, "Redis", {
      replicationGroupId,
      replicationGroupDescription: "million-rps L2 cache, generations and invalidation channel",
      engine: "redis",
      engineVersion: "7.1",
      cacheNodeType: cache.nodeType,
      numCacheClusters: nodes,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      port: REDIS_PORT,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
      // A dynamic reference ({{resolve:secretsmanager:...}}): resolved by CloudFormation, never stored.
      authToken: this.authToken.secretValue.unsafeUnwrap(),
      autoMinorVersionUpgrade: true,
      snapshotRetentionLimit: 1,
      logDeliveryConfigurations: [
        {
          destinationType: "cloudwatch-logs",
          logFormat: "json",
          logType: "slow-log",
          destinationDetails: { cloudWatchLogsDetails: { logGroup: slowLog.logGroupName } },
        },
      ],
    });
    this.acceptFindings();
  }

  private acceptFindings(): void {
    accept(
      this.replicationGroup,
      "AwsSolutions-AEC5",
      "The standard port 6379 keeps REDIS_URL conventional; the security group admits only the read fleet, worker, write Lambdas and seed task, and AUTH plus TLS are required.",
    );
    accept(
      this.authToken,
      "AwsSolutions-SMG4",
      "The read fleet and worker read the AUTH token at task start and the write Lambdas at cold start; rotation needs ElastiCache's ROTATE strategy and a restart of all of them, done as a deployment, not on a timer.",
    );
  }

  /** TLS (`rediss:`) to the primary: writes, Lua and pub/sub all need the primary. */
  get url(): string {
    const rg = this.replicationGroup;
    return `rediss://${rg.attrPrimaryEndPointAddress}:${rg.attrPrimaryEndPointPort}/0`;
  }

  containerAccess(): { environment: Record<string, string>; secrets: Record<string, ecs.Secret> } {
    return {
      environment: { REDIS_URL: this.url },
      secrets: { REDIS_PASSWORD: ecs.Secret.fromSecretsManager(this.authToken) },
    };
  }

  allowFrom(peer: ec2.IConnectable, why: string): void {
    this.securityGroup.connections.allowFrom(peer, ec2.Port.tcp(REDIS_PORT), why);
  }
}
