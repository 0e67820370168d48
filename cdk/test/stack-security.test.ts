/**
 * Least privilege and encryption on the small profile: who may reach which
 * port, what is encrypted, where secrets live, and cdk-nag with every
 * accepted finding carrying its reason.
 */
import { Validations } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { describe, expect, it } from "vitest";
import { bare, grantsOf, render } from "./support/render";
import { nagFindings, resourceNamed, resourcesOf, synthStack } from "./support/synth";

const { stack, template } = synthStack();

type Rule = {
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  CidrIp?: string;
  SourceSecurityGroupId?: unknown;
  DestinationSecurityGroupId?: unknown;
};

/** Every ingress rule as `<group> <port> from <peer>`, inline or standalone. */
function ingressRules(): string[] {
  const out: string[] = [];
  const peer = (r: Rule) => r.CidrIp ?? render(r.SourceSecurityGroupId);
  for (const [id, sg] of Object.entries(resourcesOf(template, "AWS::EC2::SecurityGroup"))) {
    for (const r of (sg.Properties as { SecurityGroupIngress?: Rule[] }).SecurityGroupIngress ??
      []) {
      out.push(`${bare(id)} ${r.FromPort} from ${peer(r)}`);
    }
  }
  for (const rule of Object.values(resourcesOf(template, "AWS::EC2::SecurityGroupIngress"))) {
    const r = rule.Properties as Rule & { GroupId: unknown };
    out.push(`${render(r.GroupId).replace(/^<|\.GroupId>$/g, "")} ${r.FromPort} from ${peer(r)}`);
  }
  return out.sort();
}

describe("security groups", () => {
  it("admit only the intended callers, each on its one port", () => {
    expect(ingressRules()).toEqual([
      "CacheSg 6379 from <ReadFleetSg.GroupId>",
      "CacheSg 6379 from <SeedSg.GroupId>",
      "CacheSg 6379 from <WorkerSg.GroupId>",
      "CacheSg 6379 from <WriteApiSg.GroupId>",
      "CommandLogSg 9098 from <TopicsSg.GroupId>",
      "CommandLogSg 9098 from <WorkerSg.GroupId>",
      "CommandLogSg 9098 from <WriteApiSg.GroupId>",
      "DatabaseSg 5432 from <MigrateSg.GroupId>",
      "DatabaseSg 5432 from <ReadFleetSg.GroupId>",
      "DatabaseSg 5432 from <SeedSg.GroupId>",
      "DatabaseSg 5432 from <WorkerSg.GroupId>",
      "ReadFleetNlbSg 80 from 0.0.0.0/0",
      "ReadFleetSg 8080 from <ReadFleetNlbSg.GroupId>",
    ]);
  });

  it("let traffic out to the internet only on 443 (AWS APIs through the NAT)", () => {
    for (const [id, sg] of Object.entries(resourcesOf(template, "AWS::EC2::SecurityGroup"))) {
      for (const r of (sg.Properties as { SecurityGroupEgress?: Rule[] }).SecurityGroupEgress ??
        []) {
        const allowed =
          (r.CidrIp === "0.0.0.0/0" && r.FromPort === 443 && r.ToPort === 443) ||
          r.CidrIp === "255.255.255.255/32"; // CDK's "disallow all" placeholder
        expect(allowed, `${id} egress ${JSON.stringify(r)}`).toBe(true);
      }
    }
  });

  it("keep the data stores in isolated subnets and the tasks off public IPs", () => {
    const subnetGroup = resourceNamed(
      template,
      "AWS::RDS::DBSubnetGroup",
      "DatabasePostgresSubnetGroup",
    );
    expect(render(subnetGroup.props.SubnetIds)).toMatch(
      /^<NetworkVpcdataSubnet1Subnet>,<NetworkVpcdataSubnet2Subnet>$/,
    );
    const cacheSubnets = resourceNamed(template, "AWS::ElastiCache::SubnetGroup", "CacheSubnets");
    expect(render(cacheSubnets.props.SubnetIds)).toMatch(/NetworkVpcdataSubnet/);
    template.allResourcesProperties("AWS::ECS::Service", {
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: "DISABLED" }),
      },
    });
    const db = resourceNamed(template, "AWS::RDS::DBInstance", "DatabasePostgres");
    expect(db.props.PubliclyAccessible ?? false).toBe(false);
  });
});

describe("encryption", () => {
  it("encrypts Postgres at rest, refuses connections without TLS and pins its CA", () => {
    template.hasResourceProperties("AWS::RDS::DBInstance", {
      StorageEncrypted: true,
      CACertificateIdentifier: "rds-ca-rsa2048-g1",
      Engine: "postgres",
      EngineVersion: Match.stringLikeRegexp("^17\\."),
    });
    template.hasResourceProperties("AWS::RDS::DBParameterGroup", {
      Parameters: Match.objectLike({ "rds.force_ssl": "1" }),
    });
  });

  it("requires TLS and AUTH on Redis and encrypts it at rest", () => {
    const { props } = resourceNamed(template, "AWS::ElastiCache::ReplicationGroup", "CacheRedis");
    expect(props).toMatchObject({
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: "required",
      AtRestEncryptionEnabled: true,
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
    });
    expect(render(props.AuthToken)).toBe(
      "{{resolve:secretsmanager:<CacheAuthToken>:SecretString:::}}",
    );
  });

  it("speaks only IAM-authenticated TLS to Kafka 3.9 (KRaft)", () => {
    template.hasResourceProperties("AWS::MSK::Cluster", {
      KafkaVersion: "3.9.x.kraft",
      ClientAuthentication: {
        Sasl: { Iam: { Enabled: true } },
        Unauthenticated: { Enabled: false },
      },
      EncryptionInfo: { EncryptionInTransit: { ClientBroker: "TLS", InCluster: true } },
    });
    const config = resourceNamed(template, "AWS::MSK::Configuration", "CommandLogConfig");
    expect(String(config.props.ServerProperties).split("\n")).toEqual(
      expect.arrayContaining([
        "auto.create.topics.enable=false",
        "default.replication.factor=2",
        "min.insync.replicas=1",
        "unclean.leader.election.enable=false",
      ]),
    );
  });

  it("encrypts the alarm topic with a rotating key that CloudWatch may use", () => {
    template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties("AWS::KMS::Key", {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: "cloudwatch.amazonaws.com" } }),
        ]),
      },
    });
  });
});

describe("secrets", () => {
  it("are generated by Secrets Manager, never written into the template", () => {
    const secrets = Object.entries(resourcesOf(template, "AWS::SecretsManager::Secret"));
    expect(secrets.map(([id]) => id).sort()).toEqual([
      expect.stringMatching(/^CacheAuthToken/),
      expect.stringMatching(/^CommandIdSecret/),
      expect.stringMatching(/^DatabaseAppSecret/),
      expect.stringMatching(/^DatabaseReaderSecret/),
      expect.stringMatching(/^MillionRpsDatabasePostgresSecret/),
      expect.stringMatching(/^WriteApiJwtSecret/),
    ]);
    for (const [, s] of secrets) {
      expect(s.Properties).toHaveProperty("GenerateSecretString");
      expect(s.Properties).not.toHaveProperty("SecretString");
    }
  });

  it("reach tasks and functions only as references, never as plain environment values", () => {
    const suspicious = /PASSWORD|SECRET|TOKEN|PRIVATE|CREDENTIAL/;
    const vars: [string, string][] = [];
    for (const td of Object.values(resourcesOf(template, "AWS::ECS::TaskDefinition"))) {
      for (const c of (
        td.Properties as {
          ContainerDefinitions: { Environment?: { Name: string; Value: unknown }[] }[];
        }
      ).ContainerDefinitions) {
        vars.push(
          ...(c.Environment ?? []).map((e) => [e.Name, render(e.Value)] as [string, string]),
        );
      }
    }
    for (const fn of Object.values(resourcesOf(template, "AWS::Lambda::Function"))) {
      const env = (fn.Properties as { Environment?: { Variables?: Record<string, unknown> } })
        .Environment?.Variables;
      vars.push(...Object.entries(env ?? {}).map(([k, v]) => [k, render(v)] as [string, string]));
    }
    expect(vars.length).toBeGreaterThan(30);
    // An ARN, or a dynamic reference CloudFormation resolves at deploy (COMMAND_ID_SECRET of the Lambdas).
    const plain = vars.filter(
      ([n, v]) =>
        suspicious.test(n) &&
        !n.endsWith("_ARN") &&
        !/^\{\{resolve:secretsmanager:<[A-Za-z]+>:SecretString:::\}\}$/.test(v),
    );
    expect(plain).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/postgres:\/\/[^@"]*:[^@"]*@/);
  });

  it("are readable by the execution roles that inject them, and by nobody else", () => {
    const readers = Object.entries(resourcesOf(template, "AWS::IAM::Policy"))
      .filter(([, p]) => JSON.stringify(p.Properties).includes("secretsmanager:GetSecretValue"))
      .map(([id]) => bare(id).replace(/DefaultPolicy$/, ""));
    expect(readers.sort()).toEqual([
      "MigrateTaskExecutionRole",
      "ReadFleetTaskExecutionRole",
      "SeedTaskExecutionRole",
      "WorkerTaskExecutionRole",
      "WriteApiCreateTodoServiceRole",
      "WriteApiDeleteTodoServiceRole",
      "WriteApiUpdateTodoServiceRole",
    ]);
  });
});

describe("IAM wildcards that cdk-nag accepts are what the reasons say", () => {
  it("execution roles hold only ecr:GetAuthorizationToken on *", () => {
    for (const role of [
      "ReadFleetTaskExecutionRole",
      "WorkerTaskExecutionRole",
      "MigrateTaskExecutionRole",
      "TopicsTaskExecutionRole",
      "SeedTaskExecutionRole",
    ]) {
      const star = grantsOf(template, role).filter((g) => g.resources.includes("*"));
      expect(
        star.flatMap((g) => g.actions),
        role,
      ).toEqual(["ecr:GetAuthorizationToken"]);
    }
  });

  it("the waiter state machine holds only log-delivery actions on *", () => {
    const star = grantsOf(template, "StepsProviderwaiterstatemachineRole").filter((g) =>
      g.resources.includes("*"),
    );
    const actions = star.flatMap((g) => g.actions);
    expect(actions.length).toBeGreaterThan(0);
    for (const a of actions) expect(a).toMatch(/^logs:/);
  });
});

describe("logs", () => {
  it("every log group has a retention", () => {
    const groups = Object.entries(resourcesOf(template, "AWS::Logs::LogGroup"));
    expect(groups.length).toBeGreaterThan(10);
    for (const [id, g] of groups) {
      expect((g.Properties as { RetentionInDays?: number }).RetentionInDays, id).toBe(30);
    }
  });

  it("no LogRetention custom resource is needed", () => {
    template.resourceCountIs("Custom::LogRetention", 0);
  });
});

/** Every acknowledgement recorded on the construct tree: [rule id, reason]. */
function acknowledgements(root: IConstruct): [string, string][] {
  const out: [string, string][] = [];
  for (const c of root.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        // CDK stores acknowledgements as "Annotation::<rule id>".
        out.push([
          id.replace(/^annotation::/i, ""),
          typeof reason === "string" ? reason : JSON.stringify(reason),
        ]);
      }
    }
  }
  return out;
}

describe("cdk-nag AwsSolutions", () => {
  it("leaves no finding unaccepted", () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  it("accepts each finding with a written reason", () => {
    // CDK itself acknowledges a few CloudFormation-Validate rules; ours are the AwsSolutions ones.
    const acks = acknowledgements(stack).filter(([id]) => id.startsWith("AwsSolutions-"));
    expect(acks.length).toBeGreaterThan(10);
    for (const [id, reason] of acks) {
      expect(reason.length, `${id}: "${reason}"`).toBeGreaterThanOrEqual(60);
    }
  });
});
