import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as apigateway from "aws-cdk-lib/aws-apigateway";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct, type IDependable } from "constructs";
import { bundledFunction } from "./bundling";
import type { Cache } from "./cache";
import { type CommandLog, TODO_TOPIC } from "./command-log";
import { WRITE_HANDLERS } from "./images";
import { accept } from "./nag";
import type { Network } from "./network";
import type { Settings } from "./settings";
import { writeReservedConcurrency } from "./sizing";

/**
 * Where the write handlers' EMF metrics land (Powertools Metrics): the namespace
 * and the `service` dimension every one of them carries. Set on the functions
 * here, read by the dashboard and alarms (observability.ts).
 */
export const WRITE_METRICS = { namespace: "MillionRps", service: "write-api" } as const;

/** A metric the write handlers emit (write-lambdas/src/telemetry/emf-metrics.ts). */
export function writeMetric(
  metricName: "WritesAccepted" | "WritesUnavailable" | "WritesFailed" | "SendLatency",
  statistic: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: WRITE_METRICS.namespace,
    metricName,
    dimensionsMap: { service: WRITE_METRICS.service },
    statistic,
    period: Duration.minutes(1),
  });
}

export type WriteRoute = keyof typeof WRITE_HANDLERS;

export interface WriteApiProps {
  network: Network;
  commandLog: CommandLog;
  /** Idempotency-Key fingerprints live in the same Redis as the read cache. */
  cache: Cache;
  /** The HMAC key of command ids (COMMAND_ID_SECRET), shared with the read fleet. */
  commandIdSecret: secretsmanager.ISecret;
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
 * next to MSK and Redis. Each function may only Connect, WriteData/DescribeTopic
 * on `todo-commands` (idempotently: WriteDataIdempotently on the cluster), read
 * the Redis AUTH token and the JWT secret (none with a JWKS). Reserved concurrency
 * keeps the functions within MSK's IAM connection limits per broker.
 */
export class WriteApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly functions: Record<WriteRoute, nodejs.NodejsFunction>;
  readonly securityGroup: ec2.SecurityGroup;
  readonly jwtSecret: secretsmanager.Secret | undefined;

  constructor(scope: Construct, id: string, props: WriteApiProps) {
    super(scope, id);
    const { network, commandLog, cache, settings } = props;
    this.securityGroup = network.securityGroup(
      this,
      "Sg",
      "Write Lambdas: out to MSK, Redis and AWS APIs",
    );
    commandLog.allowFrom(this.securityGroup, "write Lambdas produce commands");
    cache.allowFrom(this.securityGroup, "write Lambdas keep Idempotency-Key fingerprints");
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

    const routes = 3;
    const concurrency = writeReservedConcurrency(
      settings.sizing,
      routes,
      settings.lambdaAccountConcurrency,
    ).perFunction;
    const environment = {
      ...commandLog.clientEnvironment,
      ...jwtEnvironment,
      REDIS_URL: cache.url,
      // The Lambda reads the token at cold start; the function's configuration never holds it.
      REDIS_PASSWORD_ARN: cache.authToken.secretArn,
      // A dynamic reference: CloudFormation resolves it at deploy, the template holds none.
      // (The write handlers read COMMAND_ID_SECRET from their environment; an _ARN variant
      // would keep it out of the function configuration too.)
      COMMAND_ID_SECRET: props.commandIdSecret.secretValue.unsafeUnwrap(),
      LOG_LEVEL: "info",
      POWERTOOLS_SERVICE_NAME: WRITE_METRICS.service,
      POWERTOOLS_METRICS_NAMESPACE: WRITE_METRICS.namespace,
    };
    const fn = (route: WriteRoute, description: string) => {
      const f = bundledFunction(this, `${route[0]?.toUpperCase()}${route.slice(1)}Todo`, {
        entry: WRITE_HANDLERS[route],
        description,
        memoryMiB: settings.sizing.api.lambdaMemoryMiB,
        // Above the handler's own Kafka deadline (KAFKA_SEND_TIMEOUT_MS, 5 s): it answers 503 first.
        timeoutSec: 10,
        settings,
        environment,
        reservedConcurrency: concurrency,
        vpc: {
          vpc: network.vpc,
          vpcSubnets: network.appSubnets,
          securityGroups: [this.securityGroup],
        },
      });
      commandLog.grantProduce(f, TODO_TOPIC, { idempotent: true });
      cache.authToken.grantRead(f);
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
    // With a JWKS, API Gateway verifies the token before a Lambda (and a Kafka
    // connection) is spent on the request; the handler verifies it again. HS256
    // tokens cannot be checked by API Gateway's JWT authorizer.
    const authorizer =
      settings.jwks === undefined
        ? undefined
        : new HttpJwtAuthorizer("Jwt", settings.jwks.issuer, {
            jwtAudience: [settings.jwks.audience],
          });
    if (authorizer === undefined) {
      accept(
        this.api,
        "AwsSolutions-APIG4",
        "Write tokens are HS256 (the generated key): API Gateway's JWT authorizer verifies only asymmetric tokens from an OIDC issuer, so every route verifies the JWT in the handler (jose: pinned algorithm, exp and sub required). With -c jwksUrl the authorizer is attached.",
      );
    }
    const route = (path: string, methods: apigwv2.HttpMethod[], r: WriteRoute) =>
      this.api.addRoutes({
        path,
        methods,
        integration: new HttpLambdaIntegration(`${r}Integration`, this.functions[r]),
        ...(authorizer && { authorizer }),
      });
    route("/todos", [apigwv2.HttpMethod.POST], "create");
    route("/todos/{id}", [apigwv2.HttpMethod.PUT, apigwv2.HttpMethod.PATCH], "update");
    route("/todos/{id}", [apigwv2.HttpMethod.DELETE], "delete");
  }

  get url(): string {
    return this.stage.url;
  }
}
