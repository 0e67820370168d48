import { join } from "node:path";
import { ESM_REQUIRE_BANNER } from "@million-rps/shared/esm-require-banner";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { REPO_ROOT } from "./images";
import type { Settings } from "./settings";

/**
 * esbuild, locally (this machine and CI have no Docker engine): one minified
 * ESM file per function with every dependency inlined, so the Lambda runs the
 * exact versions of the lock file rather than whatever SDK the runtime ships.
 */
export const BUNDLING: nodejs.BundlingOptions = {
  forceDockerBundling: false,
  minify: true,
  sourceMap: true,
  // The runtime the functions run on (nodejs24.x).
  target: "node24",
  format: nodejs.OutputFormat.ESM,
  mainFields: ["module", "main"],
  externalModules: [],
  banner: ESM_REQUIRE_BANNER,
};

export interface BundledFunctionProps {
  entry: string;
  handler?: string;
  description: string;
  memoryMiB?: number;
  timeoutSec: number;
  environment?: Record<string, string>;
  /** Concurrent executions reserved for (and capping) this function. */
  reservedConcurrency?: number;
  settings: Settings;
  vpc?: Pick<lambda.FunctionProps, "vpc" | "vpcSubnets" | "securityGroups">;
}

/** A Node.js Lambda on Graviton, bundled from the repo, with its own log group. */
export function bundledFunction(
  scope: Construct,
  id: string,
  props: BundledFunctionProps,
): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: props.settings.logRetentionDays,
    removalPolicy: props.settings.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  return new nodejs.NodejsFunction(scope, id, {
    entry: props.entry,
    handler: props.handler ?? "handler",
    description: props.description,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memoryMiB ?? 256,
    timeout: Duration.seconds(props.timeoutSec),
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, "package-lock.json"),
    bundling: BUNDLING,
    logGroup,
    environment: { NODE_OPTIONS: "--enable-source-maps", ...props.environment },
    ...(props.reservedConcurrency !== undefined && {
      reservedConcurrentExecutions: props.reservedConcurrency,
    }),
    ...props.vpc,
  });
}
