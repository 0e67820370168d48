import { Aws, CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import type { Construct } from "constructs";
import { Cache } from "./cache";
import { Cdn } from "./cdn";
import { CommandLog, DLQ_TOPIC, TODO_TOPIC } from "./command-log";
import { Database } from "./database";
import { repoImage } from "./images";
import { Network } from "./network";
import { Observability } from "./observability";
import { defineOneOffTask, OneOffTaskRunner } from "./one-off-task/one-off-task";
import { ReadFleet } from "./read-fleet";
import type { Settings } from "./settings";
import { Worker } from "./worker";
import { WriteApi } from "./write-api";

export interface MillionRpsStackProps extends StackProps {
  settings: Settings;
}

/**
 * The whole system in one stack of constructs (one stack keeps the security
 * group rules between tiers free of cross-stack cycles):
 * network -> data (Postgres, Redis, MSK) -> one-off steps (migrate, topics)
 * -> read fleet, worker, write API -> CDN (optional) -> alarms and dashboard.
 */
export class MillionRpsStack extends Stack {
  readonly network: Network;
  readonly database: Database;
  readonly cache: Cache;
  readonly commandLog: CommandLog;
  readonly readFleet: ReadFleet;
  readonly worker: Worker;
  readonly writeApi: WriteApi;
  readonly cdn: Cdn | undefined;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: MillionRpsStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const network = new Network(this, "Network", settings);
    this.network = network;
    this.database = new Database(this, "Database", network, settings);
    this.cache = new Cache(this, "Cache", network, settings);
    this.commandLog = new CommandLog(this, "CommandLog", network, settings);
    const cluster = new ecs.Cluster(this, "Cluster", {
      vpc: network.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    // One image for the worker and its one-off steps (dist/migrate.mjs, dist/topics.mjs).
    const workerImage = repoImage("worker/Dockerfile");

    const steps = new OneOffTaskRunner(this, "Steps", { cluster, network, settings });
    const migrateSg = network.securityGroup(this, "MigrateSg", "Migration task: out to Postgres");
    this.database.allowFrom(migrateSg, "schema migrations");
    const db = this.database.containerAccess(1);
    const migrate = steps.run(this, "Migrate", {
      name: "migrate",
      image: workerImage,
      command: ["node", "dist/migrate.mjs"],
      environment: { ...db.environment, LOG_LEVEL: "info" },
      secrets: db.secrets,
      securityGroup: migrateSg,
      after: [this.database],
    });
    const topicsSg = network.securityGroup(this, "TopicsSg", "Topics task: out to MSK");
    this.commandLog.allowFrom(topicsSg, "topic creation");
    const topics = steps.run(this, "Topics", {
      name: "topics",
      image: workerImage,
      command: ["node", "dist/topics.mjs"],
      environment: {
        ...this.commandLog.clientEnvironment,
        AWS_REGION: Aws.REGION,
        KAFKA_DLQ_TOPIC: DLQ_TOPIC,
        KAFKA_PARTITIONS: String(settings.sizing.kafka.partitions),
        KAFKA_REPLICATION_FACTOR: String(this.commandLog.replicationFactor),
        LOG_LEVEL: "info",
      },
      securityGroup: topicsSg,
      after: [this.commandLog],
    });
    this.commandLog.grantCreateTopics(topics.taskDefinition.taskRole, [TODO_TOPIC, DLQ_TOPIC]);
    // Seeding is the user's step (DEPLOY.md): `aws ecs run-task` with this definition.
    const seedSg = network.securityGroup(this, "SeedSg", "Seed task: out to Postgres and Redis");
    this.database.allowFrom(seedSg, "seed COPY");
    this.cache.allowFrom(seedSg, "seed moves readers to a new generation");
    const redis = this.cache.containerAccess();
    const seed = defineOneOffTask(
      this,
      "Seed",
      {
        name: "seed",
        image: workerImage,
        command: ["node", "dist/seed.mjs", "--count", "10000"],
        environment: { ...db.environment, ...redis.environment, LOG_LEVEL: "info" },
        secrets: { ...db.secrets, ...redis.secrets },
      },
      settings,
    );
    for (const sg of [migrateSg, topicsSg, seedSg]) {
      sg.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(443),
        "AWS APIs over HTTPS: ECR, logs, Secrets Manager, MSK",
      );
    }

    this.readFleet = new ReadFleet(this, "ReadFleet", {
      network,
      cluster,
      database: this.database,
      cache: this.cache,
      settings,
    });
    this.readFleet.service.node.addDependency(migrate.step);
    this.worker = new Worker(this, "Worker", {
      network,
      cluster,
      image: workerImage,
      database: this.database,
      cache: this.cache,
      commandLog: this.commandLog,
      settings,
    });
    this.worker.service.node.addDependency(migrate.step, topics.step);
    this.writeApi = new WriteApi(this, "WriteApi", {
      network,
      commandLog: this.commandLog,
      settings,
      after: [topics.step],
    });
    this.cdn = settings.sizing.cdn ? new Cdn(this, "Cdn", this.readFleet, settings) : undefined;
    this.observability = new Observability(this, "Observability", {
      settings,
      readFleet: this.readFleet,
      worker: this.worker,
      writeApi: this.writeApi,
      commandLog: this.commandLog,
      database: this.database,
      cache: this.cache,
      cdn: this.cdn,
    });

    new CfnOutput(this, "ReadUrl", { value: this.readFleet.url, description: "GET /todos (NLB)" });
    if (this.cdn)
      new CfnOutput(this, "CdnUrl", {
        value: this.cdn.url,
        description: "GET /todos via CloudFront",
      });
    new CfnOutput(this, "WriteUrl", {
      value: this.writeApi.url,
      description: "POST/PUT/PATCH/DELETE /todos",
    });
    new CfnOutput(this, "DatabaseSecretArn", { value: this.database.secret.secretArn });
    new CfnOutput(this, "JwtSecretArn", {
      value: this.writeApi.jwtSecret?.secretArn ?? "none (JWKS configured)",
    });
    new CfnOutput(this, "ClusterName", { value: cluster.clusterName });
    new CfnOutput(this, "SeedTaskDefinition", { value: seed.taskDefinitionArn });
    new CfnOutput(this, "SeedSecurityGroup", { value: seedSg.securityGroupId });
    new CfnOutput(this, "AppSubnets", {
      value: network.vpc.selectSubnets(network.appSubnets).subnetIds.join(","),
    });
  }
}
