import { LogLevelThreshold, type Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import { censor, type Logger, logFields, REDACT_PATHS } from "@million-rps/shared/log";
import createRedactor from "@pinojs/redact";

/** The same paths and censor as the containers' pino logger, by pino's own redaction library. */
const redact = createRedactor({
  paths: [...REDACT_PATHS],
  censor: censor as (v: unknown) => unknown,
  serialize: false,
  strict: false,
});

/**
 * The write path's Logger on Lambda: Powertools' structured JSON with the
 * invocation's request id and cold start (lambda.ts adds the context per
 * invocation), the fields through the containers' redaction and error policy.
 * A child is fields bound to the one root logger, not a Powertools child: those copy
 * the context once, and the Kafka and Redis children are made at cold start.
 */
export function powertoolsLog(
  logger: PowertoolsLogger,
  withStack: boolean,
  bound: Record<string, unknown> = {},
): Logger {
  const attributes = (fields: Record<string, unknown> = {}) =>
    redact(logFields({ ...bound, ...fields }, withStack)) as Record<string, unknown>;
  return {
    // Accepted writes log at debug: below the level, no fields are built.
    debug: (msg, fields) => {
      if (logger.level <= LogLevelThreshold.DEBUG) logger.debug(msg, attributes(fields));
    },
    info: (msg, fields) => logger.info(msg, attributes(fields)),
    warn: (msg, fields) => logger.warn(msg, attributes(fields)),
    error: (msg, fields) => logger.error(msg, attributes(fields)),
    child: (fields) => powertoolsLog(logger, withStack, { ...bound, ...fields }),
  };
}
