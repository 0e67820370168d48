import { AppError, DependencyError, isTransientPgError } from "@million-rps/shared";

/**
 * What a failed apply means, decided once here. Retriable errors roll back and
 * retry the batch with backoff (nothing committed, offsets untouched); a
 * CommandDataError is one command's content that Postgres refuses, which is
 * isolated and dead-lettered so the partition keeps flowing.
 */

/** Another transaction wrote the same todos or command ids since this batch read them. */
export class ConcurrentApplyError extends AppError {
  override name = "ConcurrentApplyError";
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retriable: true });
  }
}

/** Postgres refused the data of a command (SQLSTATE class 22 or 23): retrying cannot help. */
export class CommandDataError extends AppError {
  override name = "CommandDataError";
  constructor(
    readonly sqlState: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { ...options, retriable: false });
  }
}

/**
 * Anything else from Postgres (missing table, permissions, bad credentials): a
 * problem of the deployment, not of a command. Retried forever and logged as an
 * error, because dead-lettering valid commands for it would lose them.
 */
export class DatabaseSetupError extends AppError {
  override name = "DatabaseSetupError";
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retriable: true });
  }
}

export function classifyPgError(err: unknown): Error {
  if (err instanceof AppError) return err;
  if (isTransientPgError(err)) {
    return new DependencyError("postgres", (err as Error).message, { cause: err });
  }
  const { code, constraint } = (err ?? {}) as { code?: unknown; constraint?: unknown };
  if (typeof code !== "string") return err instanceof Error ? err : new Error(String(err));
  const message = `${code} ${(err as Error).message}`;
  if (code === "23505" && (constraint === "commands_pkey" || constraint === "todos_pkey")) {
    return new ConcurrentApplyError(`another writer got there first: ${message}`, {
      cause: err,
    });
  }
  if (code.startsWith("22") || code.startsWith("23")) {
    return new CommandDataError(code, message, { cause: err });
  }
  return new DatabaseSetupError(message, { cause: err });
}

export function isRetriable(err: unknown): boolean {
  return err instanceof AppError && err.retriable;
}
