import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as rds from "aws-cdk-lib/aws-rds";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { accept } from "./nag";
import type { Network } from "./network";
import { RDS_CA_PATH, rdsCaPem } from "./rds-ca";
import type { Settings } from "./settings";

export const DB_NAME = "million_rps";
/** The master user: owns the schema, runs migrations and creates the other roles, nothing else. */
export const DB_USER = "million_rps";

/**
 * Who connects as what. The master user is for the migrate task only; the read
 * fleet (internet-facing) reads; the worker and the seed write rows. The migrate
 * task creates both roles and grants (cdk/migrate/db-roles.ts).
 */
export const DB_ROLES = {
  owner: DB_USER,
  reader: "million_rps_reader",
  app: "million_rps_app",
} as const;
export type DbRole = keyof typeof DB_ROLES;

/**
 * RDS Postgres with one generated secret per role in Secrets Manager. Tasks get
 * the host, their role and `sslmode=verify-full` against the pinned RDS CA in
 * DATABASE_URL, and the role's password as an ECS secret (PGPASSWORD, which
 * node-postgres reads), so neither the template nor an environment holds it.
 */
export class Database extends Construct {
  readonly instance: rds.DatabaseInstance;
  readonly securityGroup: ec2.SecurityGroup;
  /** The reader's and the application role's credentials (username, password, host, ...). */
  readonly roleSecrets: Record<Exclude<DbRole, "owner">, secretsmanager.ISecret>;
  private readonly caPem: string;

  constructor(scope: Construct, id: string, network: Network, settings: Settings) {
    super(scope, id);
    const { database } = settings.sizing;
    this.caPem = rdsCaPem(Stack.of(this).region);
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
      // The clients trust exactly this CA's root for the region (cdk/certs); pinned, not "the default".
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
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
    const roleSecret = (role: "reader" | "app", what: string) => {
      const secret = new rds.DatabaseSecret(
        this,
        `${role[0]?.toUpperCase()}${role.slice(1)}Secret`,
        {
          username: DB_ROLES[role],
        },
      );
      accept(
        secret,
        "AwsSolutions-SMG4",
        `The ${what} reads this password once at task start (PGPASSWORD) and the migrate task sets it on the role; rotating it on a timer would break the pools of running tasks. Rotate with a deployment.`,
      );
      // host, port and dbname beside the password (for a human with psql); tasks
      // reference the attachment, so they start only once it is complete.
      return secret.attach(this.instance);
    };
    this.roleSecrets = {
      reader: roleSecret("reader", "read fleet"),
      app: roleSecret("app", "worker (and the seed task)"),
    };
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
      "Only the migrate task uses the master password, read once at its start (PGPASSWORD); a rotation is a deployment, which also re-runs that task.",
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
        "Multi-AZ is off only because -c dbMultiAz=false asked for it (the small profile, for trying the system); the million profile keeps a standby.",
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

  /** The master secret; its `password` field becomes PGPASSWORD of the migrate task. */
  get secret() {
    const secret = this.instance.secret;
    if (secret === undefined) throw new Error("generated credentials always have a secret");
    return secret;
  }

  /** No password in the URL; TLS verified against the pinned CA, host name included. */
  url(role: DbRole): string {
    const { dbInstanceEndpointAddress: host, dbInstanceEndpointPort: port } = this.instance;
    return `postgres://${DB_ROLES[role]}@${host}:${port}/${DB_NAME}?sslmode=verify-full&sslrootcert=${RDS_CA_PATH}`;
  }

  /** Environment and secrets a container needs to reach the database as `role`. */
  containerAccess(
    role: DbRole,
    poolSize: number,
  ): { environment: Record<string, string>; secrets: Record<string, ecs.Secret> } {
    const secret = role === "owner" ? this.secret : this.roleSecrets[role];
    return {
      environment: {
        DATABASE_URL: this.url(role),
        DB_POOL_SIZE: String(poolSize),
        // Public: the RDS root CA for this region, written to RDS_CA_PATH at container start.
        RDS_CA_PEM: this.caPem,
      },
      secrets: { PGPASSWORD: ecs.Secret.fromSecretsManager(secret, "password") },
    };
  }

  /** What the migrate task needs to create the two roles and set their passwords. */
  roleProvisioning(): { environment: Record<string, string>; secrets: Record<string, ecs.Secret> } {
    return {
      environment: { DB_READER_ROLE: DB_ROLES.reader, DB_APP_ROLE: DB_ROLES.app },
      secrets: {
        DB_READER_PASSWORD: ecs.Secret.fromSecretsManager(this.roleSecrets.reader, "password"),
        DB_APP_PASSWORD: ecs.Secret.fromSecretsManager(this.roleSecrets.app, "password"),
      },
    };
  }

  allowFrom(peer: ec2.IConnectable, why: string): void {
    this.securityGroup.connections.allowFrom(peer, ec2.Port.tcp(5432), why);
  }
}
