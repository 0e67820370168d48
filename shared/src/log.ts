/** Structured logs: one JSON object per line on stdout, so any collector can parse them. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

function levelFrom(value: string | undefined): LogLevel {
  return value === "debug" || value === "warn" || value === "error" ? value : "info";
}

/** An error as a log field: name, message, code, and its `cause` chain (a few levels deep). */
function errorField(err: Error, withStack: boolean, depth = 0): Record<string, unknown> {
  const code = (err as { code?: unknown }).code;
  const cause = err.cause;
  return {
    name: err.name,
    message: err.message,
    ...(code === undefined ? {} : { code }),
    ...(withStack ? { stack: err.stack } : {}),
    ...(cause instanceof Error && depth < 3
      ? { cause: errorField(cause, withStack, depth + 1) }
      : {}),
  };
}

/** Errors become `{name, message, code, cause}`; stack traces go to logs only at debug level. */
function serialize(fields: Record<string, unknown>, withStack: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) out[k] = errorField(v, withStack);
    else if (typeof v === "bigint") out[k] = v.toString();
    else out[k] = v;
  }
  return out;
}

export function createLogger(
  component: string,
  options: { level?: string; write?: (line: string) => void; base?: Record<string, unknown> } = {},
): Logger {
  const min = ORDER[levelFrom(options.level ?? process.env.LOG_LEVEL)];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const base = { component, pid: process.pid, ...options.base };
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < min) return;
    const record = {
      ts: new Date().toISOString(),
      level,
      msg,
      ...base,
      ...serialize(fields, min === ORDER.debug),
    };
    write(`${JSON.stringify(record)}\n`);
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) =>
      createLogger(component, { ...options, base: { ...options.base, ...fields } }),
  };
}
