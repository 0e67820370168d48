import { type DestinationStream, pino } from "pino";
import { censor, type Logger, type LogLevel, logFields, REDACT_PATHS } from "./log";

export interface LoggerOptions {
  /** From the typed config (`vars.logLevel`): a typo in LOG_LEVEL fails there, not here. */
  level: LogLevel;
  /** Where lines go (tests capture them); stdout by default. */
  write?: (line: string) => void;
  /** Fields on every line, beside `component` and `pid`. */
  base?: Record<string, unknown>;
}

/**
 * The containers' logger (read fleet, worker, the local write adapter, scripts):
 * pino, one JSON object per line, shaped for the CloudWatch metric filters
 * (cdk/src/signals.ts match `$.level = "error"` and `$.msg = "..."`): the level as
 * its label, the message under `msg`, `ts` in RFC 3339, `component` and `pid`.
 * Credentials and URL passwords are censored (REDACT_PATHS).
 */
export function createLogger(component: string, options: LoggerOptions): Logger {
  const withStack = options.level === "debug";
  const destination: DestinationStream =
    options.write === undefined ? process.stdout : { write: options.write };
  const root = pino(
    {
      level: options.level,
      base: { component, pid: process.pid, ...options.base },
      messageKey: "msg",
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => logFields(fields, withStack),
      },
      // logFields has already made errors plain: pino's own err serializer would add `type`.
      serializers: { err: (value: unknown) => value },
      redact: { paths: [...REDACT_PATHS], censor },
    },
    destination,
  );
  return wrap(root);
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    child: (fields) => wrap(p.child(fields)),
  };
}
