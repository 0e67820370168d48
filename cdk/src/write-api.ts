import { RemovalPolicy } from "aws-cdk-lib";
import * as apigateway from "aws-cdk-lib/aws-apigateway";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct, type IDependable } from "constructs";
import { bundledFunction } from "./bundling";
import { type CommandLog, TODO_TOPIC } from "./command-log";
import { WRITE_HANDLERS } from "./images";
import { accept } from "./nag";
import type { Network } from "./network";
import type { Settings } from "./settings";

export type WriteRoute = keyof typeof WRITE_HANDLERS;

export interface WriteApiProps {
  network: Network;
  commandLog: CommandLog;
  settings: Settings;
  /** The API goes live only after these (the topics step): a 202 needs the topic. */
  after: IDependable[];
}

/** HTTP API access log fields (HTTP APIs have no resourcePath; routeKey names the route). */
const ACCESS_LOG = apigateway.AccessLogFormat.custom(
  JSON.stringify({
    requestId: "$context.requestId",
    ip: "$context.identity.sourceIp",
    requestTime: "$context.requestTime",
    routeKey: "$context.routeKey",
    status: "$context.status",
    responseLength: "$context.responseLength",
    responseLatency: "$context.responseLatency",
    integrationLatency: "$context.integration.latency",
    integrationError: "$context.integrationErrorMessage",
  }),
);

/**
 * The write API: HTTP API (payload v2) with one Lambda per route, in the VPC
 * next to MSK. Each function may only Connect and WriteData/DescribeTopic on
 * `todo-commands`, and read the one JWT secret (or nothing, with a JWKS).
 */
export class WriteApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly functions: Record<WriteRoute, nodejs.NodejsFunction>;
  readonly securityGroup: ec2.SecurityGroup;
  readonly jwtSecret: secretsmanager.Secret | undefined;

  constructor(scope: Construct, id: string, props: WriteApiProps) {
    super(scope, id);
    const { network, commandLog, settings } = props;
    this.securityGroup = network.securityGroup(
      this,
      "Sg",
      "Write Lambdas: out to MSK and AWS APIs",
    );
    commandLog.allowFrom(this.securityGroup, "write Lambdas produce commands");
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      "Secrets Manager and MSK GetBootstrapBrokers through the NAT",
    );

    let jwtEnvironment: Record<string, string>;
    if (settings.jwks === undefined) {
      this.jwtSecret = new secretsmanager.Secret(this, "JwtSecret", {
        description: "million-rps HS256 key for write tokens (JWT_SECRET_ARN)",
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
      });
      jwtEnvironment = { JWT_SECRET_ARN: this.jwtSecret.secretArn };
      accept(
        this.jwtSecret,
        "AwsSolutions-SMG4",
        "Rotating the HS256 key would invalidate every issued token at once and warm Lambdas keep the key read at cold start; rotate by redeploying, or use -c jwksUrl=... for a real identity provider.",
      );
    } else {
      this.jwtSecret = undefined;
      const { url, issuer, audience } = settings.jwks;
      jwtEnvironment = { JWKS_URL: url, JWT_ISSUER: issuer, JWT_AUDIENCE: audience };
    }

    const fn = (route: WriteRoute, description: string) => {
      const f = bundledFunction(this, `${route[0]?.toUpperCase()}${route.slice(1)}Todo`, {
        entry: WRITE_HANDLERS[route],
        description,
        memoryMiB: settings.sizing.api.lambdaMemoryMiB,
        // Above the handler's own Kafka deadline (KAFKA_SEND_TIMEOUT_MS, 5 s): it answers 503 first.
        timeoutSec: 10,
        settings,
        environment: { ...commandLog.clientEnvironment, ...jwtEnvironment, LOG_LEVEL: "info" },
        vpc: {
          vpc: network.vpc,
          vpcSubnets: network.appSubnets,
          securityGroups: [this.securityGroup],
        },
      });
      commandLog.grantProduce(f, TODO_TOPIC);
      this.jwtSecret?.grantRead(f);
      return f;
    };
    this.functions = {
      create: fn("create", "million-rps POST /todos"),
      update: fn("update", "million-rps PUT and PATCH /todos/{id}"),
      delete: fn("delete", "million-rps DELETE /todos/{id}"),
    };

    this.api = new apigwv2.HttpApi(this, "Api", {
      description: "million-rps writes: commands to Kafka, answered 202",
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, "AccessLogs", {
      retention: settings.logRetentionDays,
      removalPolicy: settings.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.stage = this.api.addStage("Stage", {
      stageName: "$default",
      autoDeploy: true,
      throttle: {
        rateLimit: settings.sizing.api.rateLimit,
        burstLimit: settings.sizing.api.burstLimit,
      },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: ACCESS_LOG,
      },
    });
    this.stage.node.addDependency(...props.after);
    accept(
      this.api,
      "AwsSolutions-APIG4",
      "Every route verifies the caller's JWT in the handler (jose: pinned algorithms, exp and sub required), the same code that runs locally; API Gateway's JWT authorizer cannot verify the HS256 tokens.",
    );
    const route = (path: string, methods: apigwv2.HttpMethod[], r: WriteRoute) =>
      this.api.addRoutes({
        path,
        methods,
        integration: new HttpLambdaIntegration(`${r}Integration`, this.functions[r]),
      });
    route("/todos", [apigwv2.HttpMethod.POST], "create");
    route("/todos/{id}", [apigwv2.HttpMethod.PUT, apigwv2.HttpMethod.PATCH], "update");
    route("/todos/{id}", [apigwv2.HttpMethod.DELETE], "delete");
  }

  get url(): string {
    return this.stage.url;
  }
}
