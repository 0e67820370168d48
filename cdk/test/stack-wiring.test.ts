/**
 * The small profile's template: what each piece runs, with which environment,
 * which IAM grants, behind which ports and health checks, in which order.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../src/images";
import { rdsCaPem } from "../src/rds-ca";
import { READ_5XX_MESSAGES } from "../src/signals";
import { PROFILES, writeReservedConcurrency } from "../src/sizing";
import {
  CLUSTER,
  environmentOf,
  grantsOf,
  groupArn,
  permissionsOf,
  render,
  topicArn,
} from "./support/render";
import { resourceNamed, resourcesOf, synthStack } from "./support/synth";

const { template } = synthStack();

type Container = {
  Name: string;
  Command?: string[];
  Environment: { Name: string; Value: unknown }[];
  Secrets?: { Name: string; ValueFrom: unknown }[];
  PortMappings?: { ContainerPort: number }[];
  HealthCheck?: { Command: string[] };
  StopTimeout?: number;
  Ulimits?: unknown[];
};

function taskDefinition(prefix: string) {
  const { id, props } = resourceNamed(template, "AWS::ECS::TaskDefinition", prefix);
  const container = (props.ContainerDefinitions as Container[])[0] as Container;
  return { id, props, container, env: environmentOf(container.Environment) };
}

function secretsOf(c: Container): Record<string, string> {
  return Object.fromEntries((c.Secrets ?? []).map((s) => [s.Name, render(s.ValueFrom)]));
}

function dependsOn(type: string, prefix: string): string[] {
  const [, r] =
    Object.entries(resourcesOf(template, type)).find(([id]) => id.startsWith(prefix)) ?? [];
  return ((r?.DependsOn as string[] | undefined) ?? []).map((d) => d.replace(/[0-9A-F]{8}$/, ""));
}

describe("write API", () => {
  const functions = ["WriteApiCreateTodo", "WriteApiUpdateTodo", "WriteApiDeleteTodo"];

  it.each(functions)("%s runs on Graviton in the app subnets with the MSK environment", (fn) => {
    const { props } = resourceNamed(template, "AWS::Lambda::Function", fn);
    expect(props.Runtime).toBe("nodejs24.x");
    expect(props.Architectures).toEqual(["arm64"]);
    expect(props.Timeout).toBe(10);
    expect(render((props.VpcConfig as { SecurityGroupIds: unknown }).SecurityGroupIds)).toBe(
      "<WriteApiSg.GroupId>",
    );
    expect(render((props.VpcConfig as { SubnetIds: unknown }).SubnetIds)).toMatch(
      /^<NetworkVpcappSubnet1Subnet>,<NetworkVpcappSubnet2Subnet>$/,
    );
    expect(
      environmentOf((props.Environment as { Variables: Record<string, unknown> }).Variables),
    ).toEqual({
      NODE_OPTIONS: "--enable-source-maps",
      MSK_CLUSTER_ARN: CLUSTER,
      KAFKA_AUTH: "aws-iam",
      KAFKA_TODO_TOPIC: "todo-commands",
      JWT_SECRET_ARN: "<WriteApiJwtSecret>",
      REDIS_URL:
        "rediss://<CacheRedis.PrimaryEndPoint.Address>:<CacheRedis.PrimaryEndPoint.Port>/0",
      REDIS_PASSWORD_ARN: "<CacheAuthToken>",
      COMMAND_ID_SECRET: "{{resolve:secretsmanager:<CommandIdSecret>:SecretString:::}}",
      LOG_LEVEL: "info",
      POWERTOOLS_SERVICE_NAME: "write-api",
      POWERTOOLS_METRICS_NAMESPACE: "MillionRps",
    });
  });

  it.each(functions)("%s has reserved concurrency within MSK's IAM connection limits", (fn) => {
    const { props } = resourceNamed(template, "AWS::Lambda::Function", fn);
    // t3.small brokers accept 4 new IAM connections/s: 30 s of them for 3 functions, 2 per container.
    expect(props.ReservedConcurrentExecutions).toBe(
      writeReservedConcurrency(PROFILES.small, 3).perFunction,
    );
    expect(props.ReservedConcurrentExecutions).toBe(20);
  });

  it.each(functions)(
    "%s may only connect, write todo-commands idempotently and read its two secrets",
    (fn) => {
      expect(permissionsOf(template, `${fn}ServiceRole`)).toEqual([
        `kafka-cluster:Connect on ${CLUSTER}`,
        `kafka-cluster:DescribeTopic on ${topicArn("todo-commands")}`,
        `kafka-cluster:WriteData on ${topicArn("todo-commands")}`,
        // kafkajs's idempotent producer (InitProducerId) is authorized on the cluster.
        `kafka-cluster:WriteDataIdempotently on ${CLUSTER}`,
        `kafka:GetBootstrapBrokers on ${CLUSTER}`,
        "secretsmanager:DescribeSecret on <CacheAuthToken>",
        "secretsmanager:DescribeSecret on <WriteApiJwtSecret>",
        "secretsmanager:GetSecretValue on <CacheAuthToken>",
        "secretsmanager:GetSecretValue on <WriteApiJwtSecret>",
      ]);
    },
  );

  it("routes each method to its own handler", () => {
    const routes = Object.values(resourcesOf(template, "AWS::ApiGatewayV2::Route")).map((r) => {
      const p = r.Properties as { RouteKey: string; Target: unknown };
      return `${p.RouteKey} -> ${render(p.Target)}`;
    });
    const integrationOf = (fn: string) => {
      const integration = Object.entries(
        resourcesOf(template, "AWS::ApiGatewayV2::Integration"),
      ).find(([, r]) =>
        render((r.Properties as { IntegrationUri: unknown }).IntegrationUri).includes(fn),
      );
      return `integrations/<${integration?.[0].replace(/[0-9A-F]{8}$/, "")}>`;
    };
    expect(routes.sort()).toEqual(
      [
        `DELETE /todos/{id} -> ${integrationOf("WriteApiDeleteTodo")}`,
        `PATCH /todos/{id} -> ${integrationOf("WriteApiUpdateTodo")}`,
        `POST /todos -> ${integrationOf("WriteApiCreateTodo")}`,
        `PUT /todos/{id} -> ${integrationOf("WriteApiUpdateTodo")}`,
      ].sort(),
    );
    template.hasResourceProperties("AWS::ApiGatewayV2::Integration", {
      IntegrationType: "AWS_PROXY",
      PayloadFormatVersion: "2.0",
    });
  });

  it("throttles the stage and logs every request", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp("\\$context.requestId"),
      },
    });
  });

  it("goes live only after the topics exist", () => {
    expect(dependsOn("AWS::ApiGatewayV2::Stage", "WriteApiStage")).toContain("Topics");
  });
});

describe("read fleet", () => {
  const read = taskDefinition("ReadFleetTask");

  it("runs on Fargate ARM64 with one uWS process per vCPU", () => {
    expect(read.props.RuntimePlatform).toEqual({
      CpuArchitecture: "ARM64",
      OperatingSystemFamily: "LINUX",
    });
    expect(read.props.Cpu).toBe("1024");
    expect(read.env.READ_PROCESSES).toBe("1");
  });

  it("listens on 8080, exposes nothing else, and checks its own liveness", () => {
    expect(read.container.PortMappings).toEqual([expect.objectContaining({ ContainerPort: 8080 })]);
    expect(read.env.HTTP_PORT).toBe("8080");
    expect(read.env.ADMIN_PORT).toBe("9464");
    expect(read.container.HealthCheck?.Command.join(" ")).toContain(
      "http://127.0.0.1:8080/healthz",
    );
    expect(read.container.Ulimits).toEqual([
      { Name: "nofile", SoftLimit: 65536, HardLimit: 65536 },
    ]);
  });

  it("reaches Postgres as the read-only role with verified TLS, and Redis over TLS", () => {
    expect(read.env.DATABASE_URL).toBe(
      "postgres://million_rps_reader@<DatabasePostgres.Endpoint.Address>:<DatabasePostgres.Endpoint.Port>/million_rps?sslmode=verify-full&sslrootcert=/tmp/rds-ca.pem",
    );
    expect(read.env.REDIS_URL).toBe(
      "rediss://<CacheRedis.PrimaryEndPoint.Address>:<CacheRedis.PrimaryEndPoint.Port>/0",
    );
    expect(read.env.DB_POOL_SIZE).toBe("2");
    expect(secretsOf(read.container)).toEqual({
      PGPASSWORD: "<DatabaseReaderSecretAttachment>:password::",
      REDIS_PASSWORD: "<CacheAuthToken>",
      COMMAND_ID_SECRET: "<CommandIdSecret>",
    });
  });

  it("writes its region's RDS root CA before starting the image's own command", () => {
    expect(read.env.RDS_CA_PEM).toBe(rdsCaPem("us-east-1"));
    expect(read.container.Command).toEqual([
      "sh",
      "-c",
      `printf '%s\\n' "$RDS_CA_PEM" > /tmp/rds-ca.pem && exec "$@"`,
      "sh",
      "node",
      "--enable-source-maps",
      "dist/main.mjs",
    ]);
    // The image's CMD, which the wrapper must keep running.
    const dockerfile = readFileSync(join(REPO_ROOT, "read-fleet/Dockerfile"), "utf8");
    expect(dockerfile).toContain('CMD ["node", "--enable-source-maps", "dist/main.mjs"]');
  });

  it("sits behind a public NLB that forwards TCP 80 to 8080 and health-checks /readyz", () => {
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
      Type: "network",
      Scheme: "internet-facing",
      SecurityGroups: [
        Match.objectLike({ "Fn::GetAtt": [Match.stringLikeRegexp("^ReadFleetNlbSg"), "GroupId"] }),
      ],
    });
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      Port: 80,
      Protocol: "TCP",
    });
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", {
      Port: 8080,
      Protocol: "TCP",
      TargetType: "ip",
      HealthCheckProtocol: "HTTP",
      HealthCheckPath: "/readyz",
      HealthCheckPort: "8080",
      Matcher: { HttpCode: "200" },
    });
    template.hasResourceProperties("AWS::ECS::Service", {
      LoadBalancers: [Match.objectLike({ ContainerName: "read-fleet", ContainerPort: 8080 })],
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: "DISABLED" }),
      },
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
      }),
    });
  });

  it("scales on CPU and on bytes sent per task between the profile's bounds", () => {
    const target = resourceNamed(
      template,
      "AWS::ApplicationAutoScaling::ScalableTarget",
      "ReadFleetService",
    );
    expect([target.props.MinCapacity, target.props.MaxCapacity]).toEqual([2, 4]);
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
      ScalingTargetId: { Ref: target.id },
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: "ECSServiceAverageCPUUtilization" },
        TargetValue: 60,
      },
    });
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
      ScalingTargetId: { Ref: target.id },
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        CustomizedMetricSpecification: Match.objectLike({
          Namespace: "ECS/ContainerInsights",
          MetricName: "NetworkTxBytes",
          Statistic: "Average",
        }),
        // 60 % of 1 vCPU x 0.469 Gbit/s, in bytes per second
        TargetValue: 35_175_000,
      }),
    });
  });

  it("starts only after the schema is migrated", () => {
    expect(dependsOn("AWS::ECS::Service", "ReadFleetService")).toContain("Migrate");
  });
});

describe("worker", () => {
  const worker = taskDefinition("WorkerTask");

  it("consumes todo-commands as todo-workers through MSK IAM", () => {
    expect(worker.env).toMatchObject({
      MSK_CLUSTER_ARN: CLUSTER,
      KAFKA_AUTH: "aws-iam",
      AWS_REGION: "<AWS::Region>",
      KAFKA_TODO_TOPIC: "todo-commands",
      KAFKA_DLQ_TOPIC: "todo-commands.dlq",
      KAFKA_GROUP_ID: "todo-workers",
      KAFKA_PARTITIONS: "6",
      WORKER_CONCURRENCY: "4",
      CACHED_PAGES_PUSH_BYTES: "262144",
      // one connection per partition in flight, plus the cache refill
      DB_POOL_SIZE: "5",
      ADMIN_PORT: "9465",
    });
    expect(secretsOf(worker.container)).toEqual({
      PGPASSWORD: "<DatabaseAppSecretAttachment>:password::",
      REDIS_PASSWORD: "<CacheAuthToken>",
    });
    expect(worker.env.DATABASE_URL).toMatch(
      /^postgres:\/\/million_rps_app@.*sslmode=verify-full&sslrootcert=\/tmp\/rds-ca.pem$/,
    );
    expect(worker.container.StopTimeout).toBe(60);
    expect(worker.container.Command?.slice(-3)).toEqual([
      "node",
      "--enable-source-maps",
      "dist/main.mjs",
    ]);
    const dockerfile = readFileSync(join(REPO_ROOT, "worker/Dockerfile"), "utf8");
    expect(dockerfile).toContain('CMD ["node", "--enable-source-maps", "dist/main.mjs"]');
  });

  it("may read its topic, use its group and write the DLQ, nothing more", () => {
    expect(permissionsOf(template, "WorkerTaskTaskRole")).toEqual([
      `kafka-cluster:AlterGroup on ${groupArn("todo-workers")}`,
      `kafka-cluster:Connect on ${CLUSTER}`,
      `kafka-cluster:DescribeGroup on ${groupArn("todo-workers")}`,
      `kafka-cluster:DescribeTopic on ${topicArn("todo-commands")}`,
      `kafka-cluster:DescribeTopic on ${topicArn("todo-commands.dlq")}`,
      `kafka-cluster:ReadData on ${topicArn("todo-commands")}`,
      `kafka-cluster:WriteData on ${topicArn("todo-commands.dlq")}`,
      `kafka:GetBootstrapBrokers on ${CLUSTER}`,
    ]);
  });

  it("scales on CPU and consumer lag, never beyond the partitions", () => {
    const target = resourceNamed(
      template,
      "AWS::ApplicationAutoScaling::ScalableTarget",
      "WorkerService",
    );
    expect([target.props.MinCapacity, target.props.MaxCapacity]).toEqual([1, 2]);
    expect(target.props.MaxCapacity as number).toBeLessThanOrEqual(
      Number(worker.env.KAFKA_PARTITIONS),
    );
  });

  it("starts only after migrations and topics", () => {
    expect(dependsOn("AWS::ECS::Service", "WorkerService")).toEqual(
      expect.arrayContaining(["Migrate", "Topics"]),
    );
  });
});

describe("one-off steps", () => {
  it("migrates as the master user, then creates the roles, and holds no AWS permission", () => {
    const migrate = taskDefinition("MigrateTask");
    expect(migrate.container.Command?.slice(-3)).toEqual([
      "sh",
      "-c",
      "node --enable-source-maps dist/migrate.mjs && node --enable-source-maps dist/db-roles.mjs",
    ]);
    expect(migrate.env.DATABASE_URL).toMatch(/^postgres:\/\/million_rps@.*sslmode=verify-full/);
    expect(migrate.env).toMatchObject({
      DB_READER_ROLE: "million_rps_reader",
      DB_APP_ROLE: "million_rps_app",
    });
    expect(secretsOf(migrate.container)).toEqual({
      PGPASSWORD: "<DatabasePostgresSecretAttachment>:password::",
      DB_READER_PASSWORD: "<DatabaseReaderSecretAttachment>:password::",
      DB_APP_PASSWORD: "<DatabaseAppSecretAttachment>:password::",
    });
    expect(() => grantsOf(template, "MigrateTaskTaskRole")).not.toThrow();
    expect(grantsOf(template, "MigrateTaskTaskRole")).toEqual([]);
  });

  it("creates topics with dist/topics.mjs and may create exactly the two topics", () => {
    const topics = taskDefinition("TopicsTask");
    expect(topics.container.Command).toEqual(["node", "dist/topics.mjs"]);
    expect(topics.env).toMatchObject({
      KAFKA_PARTITIONS: "6",
      KAFKA_REPLICATION_FACTOR: "2",
      KAFKA_DLQ_TOPIC: "todo-commands.dlq",
      KAFKA_AUTH: "aws-iam",
    });
    expect(topics.env.KAFKA_DLQ_TRIAGE_GROUP).toBe("todo-dlq-triage");
    expect(permissionsOf(template, "TopicsTaskTaskRole")).toEqual([
      `kafka-cluster:AlterGroup on ${groupArn("todo-dlq-triage")}`,
      // CreatePartitions (a grown KAFKA_PARTITIONS) is AlterTopic.
      `kafka-cluster:AlterTopic on ${topicArn("todo-commands")}`,
      `kafka-cluster:AlterTopic on ${topicArn("todo-commands.dlq")}`,
      `kafka-cluster:Connect on ${CLUSTER}`,
      `kafka-cluster:CreateTopic on ${topicArn("todo-commands")}`,
      `kafka-cluster:CreateTopic on ${topicArn("todo-commands.dlq")}`,
      `kafka-cluster:DescribeGroup on ${groupArn("todo-dlq-triage")}`,
      `kafka-cluster:DescribeTopic on ${topicArn("todo-commands")}`,
      `kafka-cluster:DescribeTopic on ${topicArn("todo-commands.dlq")}`,
      `kafka-cluster:ReadData on ${topicArn("todo-commands.dlq")}`,
      `kafka:GetBootstrapBrokers on ${CLUSTER}`,
    ]);
  });

  it("runs both steps as custom resources that wait for the task", () => {
    const steps = Object.entries(resourcesOf(template, "Custom::OneOffTask")).map(([id, r]) => {
      const p = r.Properties as Record<string, unknown>;
      return `${id}: ${p.Name} ${render(p.TaskDefinition)} in ${render(p.SecurityGroups)}`;
    });
    expect(steps.sort()).toEqual([
      "Migrate: migrate <MigrateTask> in <MigrateSg.GroupId>",
      "Topics: topics <TopicsTask> in <TopicsSg.GroupId>",
    ]);
  });

  it("lets the runner start only those two task definitions and read only its cluster's tasks", () => {
    expect(permissionsOf(template, "StepsStartServiceRole")).toEqual([
      "ecs:RunTask on <MigrateTask>",
      "ecs:RunTask on <TopicsTask>",
      "iam:PassRole on <MigrateTaskExecutionRole.Arn>",
      "iam:PassRole on <MigrateTaskTaskRole.Arn>",
      "iam:PassRole on <TopicsTaskExecutionRole.Arn>",
      "iam:PassRole on <TopicsTaskTaskRole.Arn>",
    ]);
    expect(permissionsOf(template, "StepsWaitServiceRole")).toEqual([
      "ecs:DescribeTasks on arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<Cluster>/*",
    ]);
  });

  it("offers a seed task with Postgres and Redis access for the user to run", () => {
    const seed = taskDefinition("SeedTask");
    expect(seed.container.Command?.at(-1)).toMatch(
      /&& exec node dist\/seed\.mjs --count "\$\{SEED_COUNT:-10000\}"$/,
    );
    expect(seed.env.DATABASE_URL).toMatch(/^postgres:\/\/million_rps_app@/);
    expect(Object.keys(secretsOf(seed.container)).sort()).toEqual(["PGPASSWORD", "REDIS_PASSWORD"]);
  });
});

describe("observability", () => {
  const alarms = Object.entries(resourcesOf(template, "AWS::CloudWatch::Alarm"))
    .filter(([id]) => id.startsWith("Observability"))
    .map(([id, r]) => ({
      id: id.replace(/^Observability/, "").replace(/[0-9A-F]{8}$/, ""),
      p: r.Properties as Record<string, unknown>,
    }));

  it("alarms on 5xx, p99, lag, DLQ and the data stores, all to the alarm topic", () => {
    expect(alarms.map((a) => a.id).sort()).toEqual([
      "CacheCpu",
      "CacheMemory",
      "CacheNetworkOut",
      "CachePacketsPerSecond",
      "ConsumerLag",
      "DatabaseConnections",
      "DatabaseCpu",
      "DatabaseStorage",
      "DlqDepth",
      "KafkaDisk",
      "KafkaOfflinePartitions",
      "KafkaUnderReplicated",
      "Read5xxLines",
      "ReadHealthyShare",
      "ReadNoHealthyTargets",
      "WorkerDown",
      "Write5xx",
      "WriteFailures",
      "WriteP99",
      "WriteThrottles",
    ]);
    for (const a of alarms) {
      expect(render(a.p.AlarmActions)).toBe("<ObservabilityAlarmsTopic>");
    }
  });

  it("alarms on handler failures from the write Lambdas' own EMF metrics, where they emit them", () => {
    expect(alarms.find((a) => a.id === "WriteFailures")?.p).toMatchObject({
      Namespace: "MillionRps",
      MetricName: "WritesFailed",
      Dimensions: [{ Name: "service", Value: "write-api" }],
      Statistic: "Sum",
      Threshold: 0,
    });
  });

  it("watches the worker group's time lag and the DLQ's untriaged depth", () => {
    const lag = alarms.find((a) => a.id === "ConsumerLag")?.p;
    expect(lag).toMatchObject({ MetricName: "EstimatedMaxTimeLag", Threshold: 30 });
    expect(lag?.Dimensions).toEqual(
      expect.arrayContaining([
        { Name: "Consumer Group", Value: "todo-workers" },
        { Name: "Topic", Value: "todo-commands" },
      ]),
    );
    expect(alarms.find((a) => a.id === "DlqDepth")?.p).toMatchObject({
      Namespace: "AWS/Kafka",
      MetricName: "SumOffsetLag",
      Statistic: "Maximum",
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
      TreatMissingData: "breaching",
      Dimensions: expect.arrayContaining([
        { Name: "Consumer Group", Value: "todo-dlq-triage" },
        { Name: "Topic", Value: "todo-commands.dlq" },
      ]),
    });
    template.hasResourceProperties("AWS::MSK::Cluster", {
      EnhancedMonitoring: "PER_TOPIC_PER_BROKER",
    });
  });

  it("alarms on write p99 latency and the 5xx share", () => {
    expect(alarms.find((a) => a.id === "WriteP99")?.p).toMatchObject({
      MetricName: "Latency",
      Namespace: "AWS/ApiGateway",
      ExtendedStatistic: "p99",
    });
    const rate = alarms.find((a) => a.id === "Write5xx")?.p as {
      Metrics: { Expression?: string }[];
    };
    expect(rate.Metrics.map((m) => m.Expression).filter(Boolean)).toEqual([
      "IF(requests > 0, 100 * errors / requests, 0)",
    ]);
  });

  it("counts the read fleet's 5xx log lines (errors and dependency 503s) as a metric", () => {
    template.hasResourceProperties("AWS::Logs::MetricFilter", {
      FilterPattern:
        '{ ($.level = "error") || ($.msg = "page fill failed with nothing cached to serve") || ' +
        '($.msg = "todo fill failed with nothing cached to serve") || ($.msg = "command status lookup failed") }',
      LogGroupName: { Ref: Match.stringLikeRegexp("^ReadFleetLogs") },
      MetricTransformations: [Match.objectLike({ MetricName: "ReadFleet5xxLines" })],
    });
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
  });

  it("matches log lines the read fleet really writes when it answers 5xx", () => {
    // If this fails, the read fleet renamed a log line: update READ_5XX_MESSAGES with it.
    const dir = join(REPO_ROOT, "read-fleet/src");
    const source = readdirSync(dir)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => readFileSync(join(dir, f), "utf8"))
      .join("\n");
    for (const m of READ_5XX_MESSAGES) expect(source, m).toContain(`log.warn("${m}"`);
    expect(source).toContain('log.error("request handler failed"');
  });
});
