/**
 * Errors that carry decisions. `retriable` decides retry-with-backoff versus
 * dead letter in the worker; `HttpError` is the one error type HTTP edges render.
 */
export class AppError extends Error {
  override name = "AppError";
  /** True when doing the same thing again later may succeed (network, failover). */
  readonly retriable: boolean;
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable ?? false;
  }
}

/** A message that can never be applied: it goes to the dead-letter topic with `reason`. */
export class PoisonMessageError extends AppError {
  override name = "PoisonMessageError";
  constructor(
    readonly reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(`poison message: ${reason}`, { ...options, retriable: false });
  }
}

/** A dependency (Postgres, Redis, Kafka) is unreachable or failing for now. */
export class DependencyError extends AppError {
  override name = "DependencyError";
  constructor(
    readonly dependency: "postgres" | "redis" | "kafka",
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { ...options, retriable: true });
  }
}

export class HttpError extends AppError {
  override name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, { ...options, retriable: status >= 500 });
  }
}

/** The single error body shape of every surface: `{"error":{"code","message"}}`. */
export function errorBody(
  code: string,
  message: string,
  details?: Record<string, unknown>,
): string {
  return JSON.stringify({ error: { code, message, ...details } });
}

const TRANSIENT_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * Whether a Postgres (node-postgres) or socket error is worth retrying, by SQLSTATE:
 * 08 connection exceptions, 40001/40P01 serialization and deadlock, 53 insufficient
 * resources, 57P01-57P03 shutdown/cannot connect now, 55P03 lock not available.
 */
export function isTransientPgError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    if (TRANSIENT_NODE_CODES.has(code)) return true;
    if (code.startsWith("08") || code.startsWith("53")) return true;
    if (["40001", "40P01", "57P01", "57P02", "57P03", "55P03"].includes(code)) return true;
  }
  // node-postgres reports a dropped connection with plain Errors.
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    err.message,
  );
}
