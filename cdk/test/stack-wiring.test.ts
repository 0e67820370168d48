/**
 * The small profile's template: what each piece runs, with which environment,
 * which IAM grants, behind which ports and health checks, in which order.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../src/images";
import { READ_5XX_MESSAGES } from "../src/signals";
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
      LOG_LEVEL: "info",
    });
  });

  it.each(functions)("%s may only connect, write todo-commands and read the JWT secret", (fn) => {
    expect(permissionsOf(template, `${fn}ServiceRole`)).toEqual([
      `kafka-cluster:Connect on ${CLUSTER}`,
      `kafka-cluster:DescribeTopic on ${topicArn("todo-commands")}`,
      `kafka-cluster:WriteData on ${topicArn("todo-commands")}`,
      `kafka:GetBootstrapBrokers on ${CLUSTER}`,
      "secretsmanager:DescribeSecret on <WriteApiJwtSecret>",
      "secretsmanager:GetSecretValue on <WriteApiJwtSecret>",
    ]);
  });

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
    expect(read.env.READ_WORKERS).toBe("1");
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

  it("reaches Postgres and Redis over TLS with passwords only from Secrets Manager", () => {
    expect(read.env.DATABASE_URL).toBe(
      "postgres://million_rps@<DatabasePostgres.Endpoint.Address>:<DatabasePostgres.Endpoint.Port>/million_rps?sslmode=no-verify",
    );
    expect(read.env.REDIS_URL).toBe(
      "rediss://<CacheRedis.PrimaryEndPoint.Address>:<CacheRedis.PrimaryEndPoint.Port>/0",
    );
    expect(read.env.DB_POOL_SIZE).toBe("2");
    expect(secretsOf(read.container)).toEqual({
      PGPASSWORD: "<DatabasePostgresSecretAttachment>:password::",
      REDIS_PASSWORD: "<CacheAuthToken>",
    });
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

  it("scales on CPU between the profile's bounds", () => {
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
      WORKER_POOL_SIZE: "4",
      // one connection per partition in flight, plus the cache refill
      DB_POOL_SIZE: "5",
      ADMIN_PORT: "9465",
    });
    expect(Object.keys(secretsOf(worker.container)).sort()).toEqual([
      "PGPASSWORD",
      "REDIS_PASSWORD",
    ]);
    expect(worker.container.StopTimeout).toBe(60);
    expect(worker.container.Command).toBeUndefined();
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
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "SumOffsetLag",
      Namespace: "AWS/Kafka",
      Dimensions: Match.arrayWith([
        { Name: "Consumer Group", Value: "todo-workers" },
        { Name: "Topic", Value: "todo-commands" },
      ]),
      AlarmActions: [
        Match.objectLike({
          Ref: Match.stringLikeRegexp("^WorkerServiceTaskCountTargetLagUpperPolicy"),
        }),
      ],
    });
  });

  it("starts only after migrations and topics", () => {
    expect(dependsOn("AWS::ECS::Service", "WorkerService")).toEqual(
      expect.arrayContaining(["Migrate", "Topics"]),
    );
  });
});

describe("one-off steps", () => {
  it("migrates with the worker image's dist/migrate.mjs and holds no AWS permission", () => {
    const migrate = taskDefinition("MigrateTask");
    expect(migrate.container.Command).toEqual(["node", "dist/migrate.mjs"]);
    expect(migrate.env.DATABASE_URL).toMatch(/^postgres:\/\/million_rps@/);
    expect(Object.keys(secretsOf(migrate.container))).toEqual(["PGPASSWORD"]);
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
    expect(permissionsOf(template, "TopicsTaskTaskRole")).toEqual([
      `kafka-cluster:Connect on ${CLUSTER}`,
      `kafka-cluster:CreateTopic on ${topicArn("todo-commands")}`,
      `kafka-cluster:CreateTopic on ${topicArn("todo-commands.dlq")}`,
      `kafka-cluster:DescribeTopic on ${topicArn("todo-commands")}`,
      `kafka-cluster:DescribeTopic on ${topicArn("todo-commands.dlq")}`,
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
    expect(seed.container.Command).toEqual(["node", "dist/seed.mjs", "--count", "10000"]);
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
      "ConsumerLag",
      "DatabaseCpu",
      "DlqMessages",
      "KafkaDisk",
      "Read5xxLines",
      "ReadNoHealthyTargets",
      "WorkerDown",
      "Write5xx",
      "WriteP99",
    ]);
    for (const a of alarms) {
      expect(render(a.p.AlarmActions)).toBe("<ObservabilityAlarmsTopic>");
    }
  });

  it("watches the worker group's time lag and any message in the DLQ", () => {
    const lag = alarms.find((a) => a.id === "ConsumerLag")?.p;
    expect(lag).toMatchObject({ MetricName: "EstimatedMaxTimeLag", Threshold: 30 });
    expect(lag?.Dimensions).toEqual(
      expect.arrayContaining([
        { Name: "Consumer Group", Value: "todo-workers" },
        { Name: "Topic", Value: "todo-commands" },
      ]),
    );
    const dlq = alarms.find((a) => a.id === "DlqMessages")?.p as {
      Metrics: Record<string, unknown>[];
    };
    const brokers = dlq.Metrics.filter((m) => m.MetricStat !== undefined).map((m) =>
      JSON.stringify((m.MetricStat as { Metric: { Dimensions: unknown } }).Metric.Dimensions),
    );
    expect(brokers).toHaveLength(2);
    for (const b of brokers) expect(b).toContain('"Value":"todo-commands.dlq"');
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
