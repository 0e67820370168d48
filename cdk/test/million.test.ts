/**
 * The `million` profile as a deploy would synthesize it (the committed account
 * and region: three AZs), with every optional branch on: JWKS instead of the
 * generated secret, a CDN with a custom domain, a narrowed NLB source, retained data.
 */
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { capacityPlans, MILLION_INPUTS } from "../src/capacity";
import { rdsCaPem } from "../src/rds-ca";
import {
  connectionBudget,
  maxConnections,
  PROFILES,
  readNetworkTargetBytesPerSec,
  writeReservedConcurrency,
} from "../src/sizing";
import {
  CLUSTER,
  environmentOf,
  groupArn,
  permissionsOf,
  render,
  topicArn,
} from "./support/render";
import { nagFindings, resourceNamed, resourcesOf, synthStack } from "./support/synth";

const { stack, template } = synthStack({
  profile: "million",
  retainData: true,
  readAllowedCidr: "203.0.113.0/24",
  jwksUrl: "https://id.example.com/.well-known/jwks.json",
  jwtIssuer: "https://id.example.com/",
  jwtAudience: "todos",
  cdnDomainName: "todos.example.com",
  cdnCertificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/example",
  alarmEmail: "oncall@example.com",
});
const million = PROFILES.million;

type Container = {
  Environment: { Name: string; Value: unknown }[];
  Secrets?: { Name: string; ValueFrom: unknown }[];
};

function container(prefix: string): Container {
  const { props } = resourceNamed(template, "AWS::ECS::TaskDefinition", prefix);
  return (props.ContainerDefinitions as Container[])[0] as Container;
}

function containerEnv(prefix: string): Record<string, string> {
  return environmentOf(container(prefix).Environment ?? []);
}

function containerSecrets(prefix: string): Record<string, string> {
  return Object.fromEntries(
    (container(prefix).Secrets ?? []).map((s) => [s.Name, render(s.ValueFrom)]),
  );
}

type Policy = { id: string; props: Record<string, unknown> };

function scalingPolicies(targetPrefix: string): Policy[] {
  const target = resourceNamed(
    template,
    "AWS::ApplicationAutoScaling::ScalableTarget",
    targetPrefix,
  );
  return Object.entries(resourcesOf(template, "AWS::ApplicationAutoScaling::ScalingPolicy"))
    .filter(
      ([, r]) =>
        render((r.Properties as { ScalingTargetId: unknown }).ScalingTargetId) ===
        `<${target.id.replace(/[0-9A-F]{8}$/, "")}>`,
    )
    .map(([id, r]) => ({ id, props: r.Properties as Record<string, unknown> }));
}

const alarms = Object.entries(resourcesOf(template, "AWS::CloudWatch::Alarm")).map(([id, r]) => ({
  id: id.replace(/^Observability/, "").replace(/[0-9A-F]{8}$/, ""),
  p: r.Properties as Record<string, unknown>,
}));
const alarm = (id: string) => {
  const found = alarms.find((a) => a.id === id);
  if (found === undefined) throw new Error(`no alarm ${id}: ${alarms.map((a) => a.id).join(", ")}`);
  return found.p;
};
type Query = {
  Id: string;
  Expression?: string;
  MetricStat?: {
    Metric: {
      Namespace: string;
      MetricName: string;
      Dimensions: { Name: string; Value: unknown }[];
    };
    Stat: string;
  };
};
const queries = (id: string) => alarm(id).Metrics as Query[];

describe("million profile sizes", () => {
  it("spreads over three AZs with a NAT gateway in each", () => {
    template.resourceCountIs("AWS::EC2::NatGateway", 3);
    const app = Object.keys(resourcesOf(template, "AWS::EC2::Subnet")).filter((id) =>
      id.startsWith("NetworkVpcappSubnet"),
    );
    expect(app).toHaveLength(3);
  });

  it("runs 4-vCPU read tasks, 4 uWS processes each, scaling 12..170", () => {
    const { props } = resourceNamed(template, "AWS::ECS::TaskDefinition", "ReadFleetTask");
    expect([props.Cpu, props.Memory]).toEqual(["4096", "8192"]);
    expect(containerEnv("ReadFleetTask").READ_PROCESSES).toBe("4");
    const target = resourceNamed(
      template,
      "AWS::ApplicationAutoScaling::ScalableTarget",
      "ReadFleetService",
    );
    expect([target.props.MinCapacity, target.props.MaxCapacity]).toEqual([
      million.read.minTasks,
      million.read.maxTasks,
    ]);
  });

  it("bounds the worker by 24 partitions on three brokers with a quorum of two", () => {
    expect(containerEnv("WorkerTask").KAFKA_PARTITIONS).toBe("24");
    // Cursor pages are read back by their holders: a push would go to all 680 processes.
    expect(containerEnv("WorkerTask").CACHED_PAGES_PUSH_BYTES).toBe("0");
    const target = resourceNamed(
      template,
      "AWS::ApplicationAutoScaling::ScalableTarget",
      "WorkerService",
    );
    expect(target.props.MaxCapacity).toBe(24);
    template.hasResourceProperties("AWS::MSK::Cluster", {
      NumberOfBrokerNodes: 3,
      BrokerNodeGroupInfo: Match.objectLike({ InstanceType: "kafka.m7g.large" }),
    });
    const config = resourceNamed(template, "AWS::MSK::Configuration", "CommandLogConfig");
    expect(String(config.props.ServerProperties)).toContain("default.replication.factor=3");
    expect(String(config.props.ServerProperties)).toContain("min.insync.replicas=2");
    expect(containerEnv("TopicsTask").KAFKA_REPLICATION_FACTOR).toBe("3");
  });

  it("keeps the data: Multi-AZ Postgres with deletion protection, snapshot on delete", () => {
    const db = Object.values(resourcesOf(template, "AWS::RDS::DBInstance"))[0];
    expect(db?.Properties).toMatchObject({
      MultiAZ: true,
      DeletionProtection: true,
      DBInstanceClass: "db.r7g.xlarge",
    });
    expect(db?.DeletionPolicy).toBe("Snapshot");
    template.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      NumCacheClusters: 3,
      CacheNodeType: "cache.r7g.large",
    });
  });

  it("throttles writes at the profile's rate", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      DefaultRouteSettings: { ThrottlingRateLimit: 10_000, ThrottlingBurstLimit: 5_000 },
    });
  });
});

describe("a real identity provider", () => {
  it("configures the JWKS and creates no HS256 secret, reading only the Redis token", () => {
    const { props } = resourceNamed(template, "AWS::Lambda::Function", "WriteApiCreateTodo");
    const env = environmentOf(
      (props.Environment as { Variables: Record<string, unknown> }).Variables,
    );
    expect(env).toMatchObject({
      JWKS_URL: "https://id.example.com/.well-known/jwks.json",
      JWT_ISSUER: "https://id.example.com/",
      JWT_AUDIENCE: "todos",
    });
    expect(env).not.toHaveProperty("JWT_SECRET_ARN");
    expect(
      permissionsOf(template, "WriteApiCreateTodoServiceRole").filter((p) =>
        p.startsWith("secretsmanager:"),
      ),
    ).toEqual([
      "secretsmanager:DescribeSecret on <CacheAuthToken>",
      "secretsmanager:GetSecretValue on <CacheAuthToken>",
    ]);
    expect(Object.keys(resourcesOf(template, "AWS::SecretsManager::Secret")).join()).not.toContain(
      "Jwt",
    );
  });
});

describe("read edge", () => {
  it("with the CDN on, admits CloudFront's origin-facing servers (and the named CIDR) only", () => {
    const { id, props } = resourceNamed(template, "AWS::EC2::SecurityGroup", "ReadFleetNlbSg");
    const standalone = Object.values(resourcesOf(template, "AWS::EC2::SecurityGroupIngress"))
      .map((r) => r.Properties as Record<string, unknown>)
      .filter((r) => JSON.stringify(r.GroupId).includes(id));
    const rules = [
      ...((props.SecurityGroupIngress as Record<string, unknown>[]) ?? []),
      ...standalone,
    ];
    expect(rules).toHaveLength(2);
    expect(rules).toEqual(
      expect.arrayContaining([
        // com.amazonaws.global.cloudfront.origin-facing in us-east-1 (the committed lookup)
        expect.objectContaining({ SourcePrefixListId: "pl-3b927c52", FromPort: 80, ToPort: 80 }),
        expect.objectContaining({ CidrIp: "203.0.113.0/24", FromPort: 80, ToPort: 80 }),
      ]),
    );
    expect(JSON.stringify(rules)).not.toContain("0.0.0.0/0");
  });

  it("attaches API Gateway's JWT authorizer to every write route when a JWKS is configured", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "JWT",
      JwtConfiguration: { Issuer: "https://id.example.com/", Audience: ["todos"] },
    });
    const routes = Object.values(resourcesOf(template, "AWS::ApiGatewayV2::Route"));
    expect(routes).toHaveLength(4);
    for (const r of routes) expect(r.Properties).toMatchObject({ AuthorizationType: "JWT" });
  });

  it("micro-caches GET and HEAD at the edge, keyed on limit and cursor, per encoding", () => {
    template.hasResourceProperties("AWS::CloudFront::CachePolicy", {
      CachePolicyConfig: Match.objectLike({
        MinTTL: 0,
        DefaultTTL: 1,
        MaxTTL: 10,
        ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({
          EnableAcceptEncodingGzip: true,
          EnableAcceptEncodingBrotli: true,
          QueryStringsConfig: {
            QueryStringBehavior: "whitelist",
            QueryStrings: ["limit", "cursor"],
          },
          HeadersConfig: { HeaderBehavior: "none" },
          CookiesConfig: { CookieBehavior: "none" },
        }),
      }),
    });
    const { props } = resourceNamed(template, "AWS::CloudFront::Distribution", "CdnDistribution");
    const config = props.DistributionConfig as Record<string, unknown>;
    expect(config.DefaultCacheBehavior).toMatchObject({
      AllowedMethods: ["GET", "HEAD"],
      Compress: false,
      ViewerProtocolPolicy: "redirect-to-https",
    });
    const [origin] = config.Origins as { DomainName: unknown; CustomOriginConfig: unknown }[];
    expect(render(origin?.DomainName)).toBe("<ReadFleetNlb.DNSName>");
    expect(origin?.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: "http-only" });
    expect(config).toMatchObject({
      Aliases: ["todos.example.com"],
      ViewerCertificate: expect.objectContaining({ MinimumProtocolVersion: "TLSv1.2_2021" }),
    });
    expect(config.Logging).toBeDefined();
    template.resourceCountIs("AWS::CloudFront::MonitoringSubscription", 1);
  });

  it("alarms on CDN 5xx and origin p99 with Region=Global, in us-east-1 (where CloudFront's metrics are)", () => {
    expect(stack.region).toBe("us-east-1");
    for (const [id, metric, stat] of [
      ["CdnRead5xx", "5xxErrorRate", { Statistic: "Average" }],
      ["CdnReadOriginP99", "OriginLatency", { ExtendedStatistic: "p99" }],
    ] as const) {
      const p = alarm(id);
      expect(p).toMatchObject({ Namespace: "AWS/CloudFront", MetricName: metric, ...stat });
      expect(p.Dimensions).toEqual([
        { Name: "DistributionId", Value: { Ref: expect.stringMatching(/^CdnDistribution/) } },
        { Name: "Region", Value: "Global" },
      ]);
      expect(render(p.AlarmActions)).toBe("<ObservabilityAlarmsTopic>");
    }
  });
});

describe("scaling at a million", () => {
  it("scales the read fleet on CPU and on bytes sent per task, and reaches the bandwidth-bound count", () => {
    const policies = scalingPolicies("ReadFleetService");
    const configs = policies.map(
      (p) => p.props.TargetTrackingScalingPolicyConfiguration as Record<string, unknown>,
    );
    expect(policies.map((p) => p.props.PolicyType)).toEqual([
      "TargetTrackingScaling",
      "TargetTrackingScaling",
    ]);
    expect(configs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          PredefinedMetricSpecification: {
            PredefinedMetricType: "ECSServiceAverageCPUUtilization",
          },
          TargetValue: 60,
        }),
        expect.objectContaining({
          CustomizedMetricSpecification: {
            Namespace: "ECS/ContainerInsights",
            MetricName: "NetworkTxBytes",
            Statistic: "Average",
            Dimensions: [
              { Name: "ClusterName", Value: { Ref: expect.stringMatching(/^Cluster/) } },
              {
                Name: "ServiceName",
                Value: { "Fn::GetAtt": [expect.stringMatching(/^ReadFleetService/), "Name"] },
              },
            ],
          },
          // 60 % of 4 vCPU x 0.469 Gbit/s: 140.7 MB/s per task
          TargetValue: 140_700_000,
        }),
      ]),
    );
    expect(readNetworkTargetBytesPerSec(million)).toBe(140_700_000);
    // Identity bodies at 1M req/s without the CDN are bandwidth-bound: the maximum reaches that count.
    const identity = capacityPlans(MILLION_INPUTS).find((p) => p.encoding === "identity" && !p.cdn);
    expect(identity?.tasksForBandwidth).toBeGreaterThan(5 * (identity?.tasksForCpu ?? 0));
    expect(million.read.maxTasks).toBeGreaterThanOrEqual(identity?.tasks ?? Infinity);
  });

  it("scales the worker on CPU and lag per task, both target tracking, with no step policy to fight them", () => {
    const policies = scalingPolicies("WorkerService");
    expect(policies.map((p) => p.props.PolicyType)).toEqual([
      "TargetTrackingScaling",
      "TargetTrackingScaling",
    ]);
    const lag = policies
      .map((p) => p.props.TargetTrackingScalingPolicyConfiguration as Record<string, unknown>)
      .find((c) => c.CustomizedMetricSpecification !== undefined) as {
      TargetValue: number;
      CustomizedMetricSpecification: { Metrics: Query[] };
    };
    expect(lag.TargetValue).toBe(10_000);
    const m = lag.CustomizedMetricSpecification.Metrics;
    expect(m.find((q) => q.Id === "lagPerTask")?.Expression).toBe(
      "IF(tasks > 0, lag / tasks, lag)",
    );
    expect(m.find((q) => q.Id === "lag")?.MetricStat?.Metric).toMatchObject({
      Namespace: "AWS/Kafka",
      MetricName: "SumOffsetLag",
      Dimensions: expect.arrayContaining([
        { Name: "Consumer Group", Value: "todo-workers" },
        { Name: "Topic", Value: "todo-commands" },
      ]),
    });
    expect(m.find((q) => q.Id === "tasks")?.MetricStat?.Metric.MetricName).toBe("RunningTaskCount");
    // No alarm of ours drives a scaling policy (the old "-1 on low lag" step sat in ALARM at zero lag).
    for (const a of alarms) expect(JSON.stringify(a.p.AlarmActions ?? [])).not.toContain("Policy");
  });

  it("reserves write Lambda concurrency within MSK's IAM limits and the account's quota", () => {
    const expected = writeReservedConcurrency(million, 3).perFunction;
    expect(expected).toBe(293);
    for (const fn of ["WriteApiCreateTodo", "WriteApiUpdateTodo", "WriteApiDeleteTodo"]) {
      expect(
        resourceNamed(template, "AWS::Lambda::Function", fn).props.ReservedConcurrentExecutions,
      ).toBe(expected);
    }
  });

  it("keeps Postgres connections within budget while a deploy doubles the tasks at maximum scale", () => {
    const budget = connectionBudget(million);
    expect(budget.read).toBe(170 * 4 * 1 * 2);
    expect(budget.worker).toBe(24 * 9 * 2);
    expect(budget.total).toBeLessThanOrEqual(0.9 * maxConnections("r7g.xlarge"));
    expect(containerEnv("ReadFleetTask").DB_POOL_SIZE).toBe("1");
    expect(containerEnv("WorkerTask").DB_POOL_SIZE).toBe("9");
  });
});

describe("alarms that fire and reach someone", () => {
  it("sends every alarm to a topic with a subscriber", () => {
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "oncall@example.com",
    });
    for (const a of alarms)
      expect(render(a.p.AlarmActions), a.id).toBe("<ObservabilityAlarmsTopic>");
  });

  it("watches partial loss of healthy read targets, not only zero", () => {
    const q = queries("ReadHealthyShare");
    expect(q.find((x) => x.Expression)?.Expression).toBe(
      "IF(running > 0, 100 * healthy / running, 100)",
    );
    expect(alarm("ReadHealthyShare")).toMatchObject({
      Threshold: 75,
      ComparisonOperator: "LessThanThreshold",
    });
    expect(
      q
        .map((x) => x.MetricStat?.Metric.MetricName)
        .filter(Boolean)
        .sort(),
    ).toEqual(["HealthyHostCount", "RunningTaskCount"]);
  });

  it("watches Postgres connections against the instance's max_connections, and its free storage", () => {
    expect(alarm("DatabaseConnections")).toMatchObject({
      Namespace: "AWS/RDS",
      MetricName: "DatabaseConnections",
      Threshold: Math.floor(maxConnections("r7g.xlarge") * 0.8),
    });
    expect(alarm("DatabaseStorage")).toMatchObject({
      MetricName: "FreeStorageSpace",
      ComparisonOperator: "LessThanThreshold",
      Threshold: Math.floor(200 * 2 ** 30 * 0.1),
    });
  });

  it("watches Redis memory and network allowances on every node (the primary moves)", () => {
    for (const [id, metric] of [
      ["CacheMemory", "DatabaseMemoryUsagePercentage"],
      ["CacheNetworkOut", "NetworkBandwidthOutAllowanceExceeded"],
      ["CachePacketsPerSecond", "NetworkPacketsPerSecondAllowanceExceeded"],
      ["CacheCpu", "EngineCPUUtilization"],
    ] as const) {
      const nodes = queries(id)
        .filter((q) => q.MetricStat !== undefined)
        .map((q) => {
          expect(q.MetricStat?.Metric).toMatchObject({
            Namespace: "AWS/ElastiCache",
            MetricName: metric,
          });
          return q.MetricStat?.Metric.Dimensions;
        });
      expect(nodes).toEqual(
        ["001", "002", "003"].map((n) => [
          { Name: "CacheClusterId", Value: `millionrps-redis-${n}` },
        ]),
      );
    }
    template.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      ReplicationGroupId: "millionrps-redis",
      NumCacheClusters: 3,
    });
  });

  it("watches MSK under-replicated partitions on all three brokers and offline partitions", () => {
    const urp = queries("KafkaUnderReplicated");
    expect(urp.find((q) => q.Expression)?.Expression).toBe("SUM([k1, k2, k3])");
    expect(alarm("KafkaOfflinePartitions")).toMatchObject({
      Namespace: "AWS/Kafka",
      MetricName: "OfflinePartitionsCount",
      Threshold: 0,
    });
  });

  it("watches write Lambda throttles", () => {
    const q = queries("WriteThrottles");
    expect(q.find((x) => x.Expression)?.Expression).toBe(
      "FILL(create, 0) + FILL(update, 0) + FILL(delete, 0)",
    );
    for (const m of q.filter((x) => x.MetricStat))
      expect(m.MetricStat?.Metric.MetricName).toBe("Throttles");
  });

  it("watches the DLQ's depth (the triage group's lag), not its arrivals", () => {
    expect(alarm("DlqDepth")).toMatchObject({
      MetricName: "SumOffsetLag",
      Dimensions: expect.arrayContaining([
        { Name: "Consumer Group", Value: "todo-dlq-triage" },
        { Name: "Topic", Value: "todo-commands.dlq" },
      ]),
    });
    expect(alarms.map((a) => a.id)).not.toContain("DlqMessages");
  });
});

describe("least privilege in Postgres, verified TLS", () => {
  it("gives each service its own role and secret; the master user is the migrate task's alone", () => {
    const users = Object.fromEntries(
      ["ReadFleetTask", "WorkerTask", "MigrateTask", "SeedTask"].map((t) => [
        t,
        /^postgres:\/\/([a-z_]+)@/.exec(containerEnv(t).DATABASE_URL ?? "")?.[1],
      ]),
    );
    expect(users).toEqual({
      ReadFleetTask: "million_rps_reader",
      WorkerTask: "million_rps_app",
      MigrateTask: "million_rps",
      SeedTask: "million_rps_app",
    });
    expect(containerSecrets("ReadFleetTask").PGPASSWORD).toBe(
      "<DatabaseReaderSecretAttachment>:password::",
    );
    expect(containerSecrets("WorkerTask").PGPASSWORD).toBe(
      "<DatabaseAppSecretAttachment>:password::",
    );
    expect(containerSecrets("MigrateTask")).toMatchObject({
      PGPASSWORD: "<DatabasePostgresSecretAttachment>:password::",
      DB_READER_PASSWORD: "<DatabaseReaderSecretAttachment>:password::",
      DB_APP_PASSWORD: "<DatabaseAppSecretAttachment>:password::",
    });
    for (const [name, user] of [
      ["DatabaseReaderSecret", "million_rps_reader"],
      ["DatabaseAppSecret", "million_rps_app"],
    ] as const) {
      const { props } = resourceNamed(template, "AWS::SecretsManager::Secret", name);
      expect(props.GenerateSecretString).toMatchObject({
        SecretStringTemplate: JSON.stringify({ username: user }),
        GenerateStringKey: "password",
      });
    }
    // Only the migrate task's execution role may read the master secret.
    const masterReaders = Object.entries(resourcesOf(template, "AWS::IAM::Policy"))
      .filter(([, p]) => JSON.stringify(p.Properties).includes("DatabasePostgresSecretAttachment"))
      .map(([id]) => id.replace(/[0-9A-F]{8}$/, ""));
    expect(masterReaders).toEqual(["MigrateTaskExecutionRoleDefaultPolicy"]);
  });

  it("verifies the server (verify-full) against the CA pinned on the instance, for its region", () => {
    template.hasResourceProperties("AWS::RDS::DBInstance", {
      CACertificateIdentifier: "rds-ca-rsa2048-g1",
    });
    for (const t of ["ReadFleetTask", "WorkerTask", "MigrateTask", "SeedTask"]) {
      const env = containerEnv(t);
      expect(env.DATABASE_URL, t).toMatch(/\?sslmode=verify-full&sslrootcert=\/tmp\/rds-ca\.pem$/);
      expect(env.RDS_CA_PEM, t).toBe(rdsCaPem("us-east-1"));
    }
    expect(rdsCaPem("us-east-1")).toContain("-----BEGIN CERTIFICATE-----");
  });
});

describe("the write path's new needs", () => {
  it("gives the write Lambdas Redis (URL, token ARN, security group) and the shared COMMAND_ID_SECRET", () => {
    const { props } = resourceNamed(template, "AWS::Lambda::Function", "WriteApiCreateTodo");
    const env = environmentOf(
      (props.Environment as { Variables: Record<string, unknown> }).Variables,
    );
    expect(env).toMatchObject({
      REDIS_URL:
        "rediss://<CacheRedis.PrimaryEndPoint.Address>:<CacheRedis.PrimaryEndPoint.Port>/0",
      REDIS_PASSWORD_ARN: "<CacheAuthToken>",
      COMMAND_ID_SECRET: "{{resolve:secretsmanager:<CommandIdSecret>:SecretString:::}}",
    });
    expect(containerSecrets("ReadFleetTask").COMMAND_ID_SECRET).toBe("<CommandIdSecret>");
    template.hasResourceProperties("AWS::EC2::SecurityGroupIngress", {
      FromPort: 6379,
      GroupId: { "Fn::GetAtt": [Match.stringLikeRegexp("^CacheSg"), "GroupId"] },
      SourceSecurityGroupId: { "Fn::GetAtt": [Match.stringLikeRegexp("^WriteApiSg"), "GroupId"] },
    });
    expect(permissionsOf(template, "WriteApiCreateTodoServiceRole")).toContain(
      `kafka-cluster:WriteDataIdempotently on ${CLUSTER}`,
    );
  });
});

describe("the topics step", () => {
  it("may add partitions (AlterTopic) and seed the DLQ triage group, with the million profile's count", () => {
    expect(containerEnv("TopicsTask")).toMatchObject({
      KAFKA_PARTITIONS: "24",
      KAFKA_REPLICATION_FACTOR: "3",
      KAFKA_DLQ_TRIAGE_GROUP: "todo-dlq-triage",
    });
    const perms = permissionsOf(template, "TopicsTaskTaskRole");
    expect(perms).toEqual(
      expect.arrayContaining([
        `kafka-cluster:AlterTopic on ${topicArn("todo-commands")}`,
        `kafka-cluster:AlterTopic on ${topicArn("todo-commands.dlq")}`,
        `kafka-cluster:AlterGroup on ${groupArn("todo-dlq-triage")}`,
      ]),
    );
  });
});

describe("cdk-nag AwsSolutions on every optional branch", () => {
  it("leaves no finding unaccepted", () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});
