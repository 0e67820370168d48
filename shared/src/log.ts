/**
 * What every deployable logs through, and what may never reach a log line. The
 * containers write it with pino (`pino-logger.ts`), the Lambda handlers with
 * Powertools' Logger (write-lambdas/src/observability): both apply this policy.
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export const REDACTED = "[redacted]";

/** Fields whose value is a credential, wherever they appear (top level or one object down). */
const SECRET_KEYS = [
  "authorization",
  "cookie",
  "password",
  "secret",
  "token",
  "jwtSecret",
  "JWT_SECRET",
  "redisPassword",
  "REDIS_PASSWORD",
  "commandIdSecret",
  "COMMAND_ID_SECRET",
  "DB_READER_PASSWORD",
  "DB_APP_PASSWORD",
];
/** Fields holding a URL, which may carry `user:password@`: kept, with the password cut out. */
const URL_KEYS = [
  "url",
  "databaseUrl",
  "DATABASE_URL",
  "redisUrl",
  "REDIS_URL",
  "connectionString",
];

/**
 * Paths (pino's redact syntax, also @pinojs/redact's) censored in every record and
 * child binding: credentials by name, request headers (`headers.x`, `req.headers.x`),
 * and the request config an HTTP client's error carries (axios' `err.config` holds
 * the headers it sent).
 */
export const REDACT_PATHS: readonly string[] = [
  ...[...SECRET_KEYS, ...URL_KEYS].flatMap((k) => [k, `*.${k}`]),
  ...['"authorization"', '"cookie"', '"set-cookie"', '"x-api-key"'].flatMap((h) => [
    `headers[${h}]`,
    `*.headers[${h}]`,
  ]),
  "err.config",
  "err.request",
  "err.response",
];

const URL_PASSWORD = /(\/\/[^/\s:@]*):[^@/\s]*@/g;

/** `scheme://user:secret@host` becomes `scheme://user:[redacted]@host`, anywhere in a text. */
export function withoutUrlPasswords(text: string): string {
  return text.replace(URL_PASSWORD, `$1:${REDACTED}@`);
}

/** The censor for REDACT_PATHS: a URL keeps everything but its password; anything else goes. */
export function censor(value: unknown, path: readonly string[]): unknown {
  const key = path[path.length - 1] ?? "";
  if (typeof value === "string" && URL_KEYS.includes(key)) return withoutUrlPasswords(value);
  return REDACTED;
}

/**
 * An error as a log field: name, message, code and its `cause` chain (a few levels
 * deep), never its other properties (a client's request config, a response with
 * headers). Stack traces only when the logger runs at debug.
 */
export function errorField(err: Error, withStack: boolean, depth = 0): Record<string, unknown> {
  const code = (err as { code?: unknown }).code;
  const cause = err.cause;
  return {
    name: err.name,
    message: withoutUrlPasswords(err.message),
    ...(code === undefined ? {} : { code }),
    ...(withStack && err.stack !== undefined ? { stack: withoutUrlPasswords(err.stack) } : {}),
    ...(cause instanceof Error && depth < 3
      ? { cause: errorField(cause, withStack, depth + 1) }
      : {}),
  };
}

/** A record's fields as they are logged: errors through errorField, bigints as strings. */
export function logFields(
  fields: Record<string, unknown>,
  withStack: boolean,
): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in fields) {
    const v = fields[key];
    if (v instanceof Error || typeof v === "bigint") {
      out ??= { ...fields };
      out[key] = v instanceof Error ? errorField(v, withStack) : v.toString();
    }
  }
  return out ?? fields;
}
