import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as rds from "aws-cdk-lib/aws-rds";
import { Construct } from "constructs";
import { accept } from "./nag";
import type { Network } from "./network";
import type { Settings } from "./settings";

export const DB_NAME = "million_rps";
export const DB_USER = "million_rps";

/**
 * RDS Postgres with a generated password in Secrets Manager. Tasks get the
 * host in DATABASE_URL and the password as an ECS secret (PGPASSWORD, which
 * node-postgres reads), so neither the template nor an environment holds it.
 */
export class Database extends Construct {
  readonly instance: rds.DatabaseInstance;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, network: Network, settings: Settings) {
    super(scope, id);
    const { database } = settings.sizing;
    this.securityGroup = network.securityGroup(this, "Sg", "Postgres: only the tasks that need it");
    const engine = rds.DatabaseInstanceEngine.postgres({
      version: rds.PostgresEngineVersion.VER_17_9,
    });
    const parameterGroup = new rds.ParameterGroup(this, "Params", {
      engine,
      description: "million-rps: TLS only, log slow statements",
      parameters: {
        "rds.force_ssl": "1",
        log_min_duration_statement: "500",
      },
    });
    const instanceIdentifier = `${Stack.of(this).stackName}-postgres`.toLowerCase();
    // Created before the instance, with retention, instead of a LogRetention custom resource.
    const postgresLog = new logs.LogGroup(this, "PostgresLog", {
      logGroupName: `/aws/rds/instance/${instanceIdentifier}/postgresql`,
      retention: settings.logRetentionDays,
      removalPolicy: settings.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.instance = new rds.DatabaseInstance(this, "Postgres", {
      instanceIdentifier,
      engine,
      parameterGroup,
      instanceType: new ec2.InstanceType(database.instanceClass),
      vpc: network.vpc,
      vpcSubnets: network.dataSubnets,
      securityGroups: [this.securityGroup],
      credentials: rds.Credentials.fromGeneratedSecret(DB_USER),
      databaseName: DB_NAME,
      multiAz: database.multiAz,
      allocatedStorage: database.storageGiB,
      maxAllocatedStorage: database.storageGiB * 4,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      backupRetention: Duration.days(7),
      deletionProtection: settings.retainData,
      removalPolicy: settings.retainData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      enablePerformanceInsights: true,
      cloudwatchLogsExports: ["postgresql"],
      autoMinorVersionUpgrade: true,
      monitoringInterval: Duration.seconds(60),
    });
    this.instance.node.addDependency(postgresLog);
    this.acceptFindings(settings);
  }

  private acceptFindings(settings: Settings): void {
    const db = this.instance;
    accept(
      db,
      "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]",
      "Enhanced Monitoring requires this AWS-managed role policy; it only lets RDS write OS metrics to CloudWatch Logs.",
    );
    accept(
      db,
      "AwsSolutions-SMG4",
      "Tasks read the password once at start (PGPASSWORD); automatic rotation would break new pool connections of running tasks. Rotate with a deployment.",
    );
    accept(
      db,
      "AwsSolutions-RDS11",
      "The standard port 5432 keeps DATABASE_URL conventional; a non-standard port hides nothing from a caller inside the VPC, the security group does the limiting.",
    );
    if (!settings.sizing.database.multiAz) {
      accept(
        db,
        "AwsSolutions-RDS3",
        "The small profile is for trying the system; -c dbMultiAz=true (default in the million profile) adds the standby.",
      );
    }
    if (!settings.retainData) {
      accept(
        db,
        "AwsSolutions-RDS10",
        "Without -c retainData=true the stack is disposable and `cdk destroy` must be able to delete it; with it, deletion protection is on.",
      );
    }
  }

  /** The master secret; its `password` field becomes PGPASSWORD. */
  get secret() {
    const secret = this.instance.secret;
    if (secret === undefined) throw new Error("generated credentials always have a secret");
    return secret;
  }

  /**
   * No password in the URL. TLS is required by the parameter group; `no-verify`
   * encrypts without checking the RDS CA, which the Node images do not carry.
   */
  get url(): string {
    const { dbInstanceEndpointAddress: host, dbInstanceEndpointPort: port } = this.instance;
    return `postgres://${DB_USER}@${host}:${port}/${DB_NAME}?sslmode=no-verify`;
  }

  /** Environment and secrets a container needs to reach the database. */
  containerAccess(poolSize: number): {
    environment: Record<string, string>;
    secrets: Record<string, ecs.Secret>;
  } {
    return {
      environment: { DATABASE_URL: this.url, DB_POOL_SIZE: String(poolSize) },
      secrets: { PGPASSWORD: ecs.Secret.fromSecretsManager(this.secret, "password") },
    };
  }

  allowFrom(peer: ec2.IConnectable, why: string): void {
    this.securityGroup.connections.allowFrom(peer, ec2.Port.tcp(5432), why);
  }
}
