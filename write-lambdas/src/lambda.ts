import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import type { WriteKind } from "./commands";
import { parseWriteConfig } from "./config";
import type { WriteResponse } from "./http/response";
import { createWriteRuntime, type WriteRuntime } from "./runtime";
import { emfWriteMetrics } from "./telemetry/emf-metrics";
import { powertoolsLog } from "./telemetry/powertools-log";

export type LambdaWriteHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<WriteResponse>;

interface ColdStart {
  runtime: WriteRuntime;
  logger: PowertoolsLogger;
  metrics: Metrics;
}

let coldStart: ColdStart | undefined;

function init(): ColdStart {
  const config = parseWriteConfig(process.env);
  const logger = new PowertoolsLogger({
    serviceName: config.serviceName,
    logLevel: config.logLevel.toUpperCase() as "DEBUG" | "INFO" | "WARN" | "ERROR",
  });
  const metrics = new Metrics({
    namespace: config.metricsNamespace,
    serviceName: config.serviceName,
  });
  metrics.captureColdStartMetric();
  const runtime = createWriteRuntime(config, {
    log: powertoolsLog(logger, config.logLevel === "debug"),
    metrics: emfWriteMetrics(metrics),
  });
  return { runtime, logger, metrics };
}

/**
 * The Lambda entry files call this at module init: config is parsed during the
 * cold start (a bad or short secret fails the init loudly), and every invocation
 * of the warm container reuses the same key source, producer and Redis connection.
 * Each invocation's log lines carry its request id (Powertools' Lambda context);
 * its metrics are flushed as one EMF record when it answers.
 */
export function lambdaHandler(kind: WriteKind): LambdaWriteHandler {
  coldStart ??= init();
  const { runtime, logger, metrics } = coldStart;
  const handle = runtime.handlers[kind];
  return async function handleInvocation(event, context) {
    logger.addContext(context);
    try {
      return await handle(event);
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
