import { Aws, CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import { Cache } from "./cache";
import { Cdn } from "./cdn";
import { CLOUDFRONT_METRICS_REGION, EdgeAlarmsStack } from "./cdn-alarms";
import { CommandLog, DLQ_TOPIC, DLQ_TRIAGE_GROUP, TODO_TOPIC } from "./command-log";
import { Database } from "./database";
import { migrateImage, repoImage } from "./images";
import { accept } from "./nag";
import { Network } from "./network";
import { Observability } from "./observability";
import { defineOneOffTask, OneOffTaskRunner } from "./one-off-task/one-off-task";
import { withRdsCa, withRdsCaShell } from "./rds-ca";
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
  /** The CDN alarms' stack in us-east-1, when this stack lives elsewhere. */
  readonly edge: EdgeAlarmsStack | undefined;
  readonly commandIdSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: MillionRpsStackProps) {
    const { settings } = props;
    const edgeNeeded =
      settings.sizing.cdn &&
      props.env?.region !== undefined &&
      props.env.region !== CLOUDFRONT_METRICS_REGION;
    super(scope, id, { ...props, ...(edgeNeeded && { crossRegionReferences: true }) });
    const network = new Network(this, "Network", settings);
    this.network = network;
    this.database = new Database(this, "Database", network, settings);
    this.cache = new Cache(this, "Cache", network, settings);
    this.commandLog = new CommandLog(this, "CommandLog", network, settings);
    const cluster = new ecs.Cluster(this, "Cluster", {
      vpc: network.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    // One image for the worker, the topics step and the seed; the migrate step has its own
    // (migrations, then the database roles: cdk/migrate).
    const workerImage = repoImage("worker/Dockerfile");
    this.commandIdSecret = new secretsmanager.Secret(this, "CommandIdSecret", {
      description:
        "million-rps HMAC key of command ids (COMMAND_ID_SECRET), write API and read fleet",
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    accept(
      this.commandIdSecret,
      "AwsSolutions-SMG4",
      "Command ids issued under the old key would stop verifying at once (404 on GET /commands/:id), and the read fleet and warm Lambdas read it at start; rotate by redeploying, accepting that.",
    );

    const steps = new OneOffTaskRunner(this, "Steps", { cluster, network, settings });
    const migrateSg = network.securityGroup(this, "MigrateSg", "Migration task: out to Postgres");
    this.database.allowFrom(migrateSg, "schema migrations");
    // The only task that logs in as the master user.
    const db = this.database.containerAccess("owner", 1);
    const roles = this.database.roleProvisioning();
    const migrate = steps.run(this, "Migrate", {
      name: "migrate",
      image: migrateImage(),
      command: withRdsCa([
        "sh",
        "-c",
        "node --enable-source-maps dist/migrate.mjs && node --enable-source-maps dist/db-roles.mjs",
      ]),
      environment: { ...db.environment, ...roles.environment, LOG_LEVEL: "info" },
      secrets: { ...db.secrets, ...roles.secrets },
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
        KAFKA_DLQ_TRIAGE_GROUP: DLQ_TRIAGE_GROUP,
        LOG_LEVEL: "info",
      },
      securityGroup: topicsSg,
      after: [this.commandLog],
    });
    this.commandLog.grantTopicSetup(topics.taskDefinition.taskRole, [TODO_TOPIC, DLQ_TOPIC], {
      group: DLQ_TRIAGE_GROUP,
      topic: DLQ_TOPIC,
    });
    // Seeding is the user's step (DEPLOY.md): `aws ecs run-task` with this definition.
    const seedSg = network.securityGroup(this, "SeedSg", "Seed task: out to Postgres and Redis");
    this.database.allowFrom(seedSg, "seed COPY");
    this.cache.allowFrom(seedSg, "seed moves readers to a new generation");
    const redis = this.cache.containerAccess();
    // Rows only: the application role. SEED_COUNT (default 10,000) is a container override.
    const seedDb = this.database.containerAccess("app", 2);
    const seed = defineOneOffTask(
      this,
      "Seed",
      {
        name: "seed",
        image: workerImage,
        // A shell parameter (SEED_COUNT), not a template placeholder.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: expanded by sh in the container
        command: withRdsCaShell('exec node dist/seed.mjs --count "${SEED_COUNT:-10000}"'),
        environment: { ...seedDb.environment, ...redis.environment, LOG_LEVEL: "info" },
        secrets: { ...seedDb.secrets, ...redis.secrets },
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
      commandIdSecret: this.commandIdSecret,
      settings,
    });
    // After migrate: its second step creates the reader role the fleet logs in as.
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
      cache: this.cache,
      commandIdSecret: this.commandIdSecret,
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
    this.edge =
      edgeNeeded && this.cdn !== undefined
        ? new EdgeAlarmsStack(scope, `${id}Edge`, {
            env: { account: props.env?.account, region: CLOUDFRONT_METRICS_REGION },
            crossRegionReferences: true,
            description: "million-rps CDN alarms (CloudFront metrics live in us-east-1)",
            distributionId: this.cdn.distribution.distributionId,
            alarmEmail: settings.alarmEmail,
          })
        : undefined;

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
    new CfnOutput(this, "DatabaseSecretArn", {
      value: this.database.secret.secretArn,
      description: "Postgres master user: migrations only",
    });
    new CfnOutput(this, "DatabaseReaderSecretArn", {
      value: this.database.roleSecrets.reader.secretArn,
      description: "Postgres read-only role (the read fleet)",
    });
    new CfnOutput(this, "DatabaseAppSecretArn", {
      value: this.database.roleSecrets.app.secretArn,
      description: "Postgres application role (the worker and the seed)",
    });
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
