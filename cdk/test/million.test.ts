/**
 * The `million` profile as a deploy would synthesize it (three AZs), with
 * every optional branch on: JWKS instead of the generated secret, a CDN with a
 * custom domain, a narrowed NLB source, retained data.
 */
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { PROFILES } from "../src/sizing";
import { environmentOf, permissionsOf, render } from "./support/render";
import { nagFindings, resourceNamed, resourcesOf, synthStack } from "./support/synth";

const { stack, template } = synthStack(
  {
    profile: "million",
    retainData: true,
    readAllowedCidr: "203.0.113.0/24",
    jwksUrl: "https://id.example.com/.well-known/jwks.json",
    jwtIssuer: "https://id.example.com/",
    jwtAudience: "todos",
    cdnDomainName: "todos.example.com",
    cdnCertificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/example",
  },
  { deployEnv: true },
);
const million = PROFILES.million;

function containerEnv(prefix: string): Record<string, string> {
  const { props } = resourceNamed(template, "AWS::ECS::TaskDefinition", prefix);
  const [c] = props.ContainerDefinitions as { Environment: { Name: string; Value: unknown }[] }[];
  return environmentOf(c?.Environment ?? []);
}

describe("million profile sizes", () => {
  it("spreads over three AZs with a NAT gateway in each", () => {
    template.resourceCountIs("AWS::EC2::NatGateway", 3);
    const app = Object.keys(resourcesOf(template, "AWS::EC2::Subnet")).filter((id) =>
      id.startsWith("NetworkVpcappSubnet"),
    );
    expect(app).toHaveLength(3);
  });

  it("runs 4-vCPU read tasks, 4 uWS processes each, scaling 12..100 on CPU", () => {
    const { props } = resourceNamed(template, "AWS::ECS::TaskDefinition", "ReadFleetTask");
    expect([props.Cpu, props.Memory]).toEqual(["4096", "8192"]);
    expect(containerEnv("ReadFleetTask").READ_WORKERS).toBe("4");
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
      DBInstanceClass: "db.r7g.large",
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
  it("configures the JWKS and creates no HS256 secret nor any Secrets Manager grant", () => {
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
    expect(permissionsOf(template, "WriteApiCreateTodoServiceRole").join("\n")).not.toContain(
      "secretsmanager",
    );
    expect(Object.keys(resourcesOf(template, "AWS::SecretsManager::Secret")).join()).not.toContain(
      "Jwt",
    );
  });
});

describe("read edge", () => {
  it("admits readers only from the configured CIDR", () => {
    const { props } = resourceNamed(template, "AWS::EC2::SecurityGroup", "ReadFleetNlbSg");
    expect(props.SecurityGroupIngress).toEqual([
      expect.objectContaining({ CidrIp: "203.0.113.0/24", FromPort: 80, ToPort: 80 }),
    ]);
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

  it("alarms on CDN 5xx and origin p99", () => {
    const ids = Object.keys(resourcesOf(template, "AWS::CloudWatch::Alarm"));
    expect(ids.some((id) => id.startsWith("ObservabilityRead5xx"))).toBe(true);
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "OriginLatency",
      Namespace: "AWS/CloudFront",
      ExtendedStatistic: "p99",
    });
  });

  it("sums DLQ arrivals over all three brokers", () => {
    const dlq = resourceNamed(template, "AWS::CloudWatch::Alarm", "ObservabilityDlqMessages");
    const metrics = dlq.props.Metrics as { Expression?: string }[];
    expect(metrics.find((m) => m.Expression)?.Expression).toBe(
      "FILL(b1, 0) + FILL(b2, 0) + FILL(b3, 0)",
    );
  });
});

describe("cdk-nag AwsSolutions on every optional branch", () => {
  it("leaves no finding unaccepted", () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});
