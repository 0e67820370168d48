/**
 * Errors of the local harness. Each start-up failure says what went wrong and what
 * the user can do next, so `npm start` can print both instead of a stack trace.
 */

/** A start-up step failed; `nextStep` is what to do about it, in a sentence. */
export class StartupError extends Error {
  override name = "StartupError";
  constructor(
    message: string,
    readonly nextStep: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A stop was requested while something was still starting: not a failure, nothing to report. */
export class StopRequested extends Error {
  override name = "StopRequested";
  constructor() {
    super("a stop was requested");
  }
}

export function isStopRequested(err: unknown): boolean {
  return err instanceof StopRequested;
}

const isRoot = process.getuid?.() === 0;

/** The command a person would type to install Debian packages on this machine. */
export function aptInstallCommand(packages: readonly string[]): string {
  return `${isRoot ? "" : "sudo "}apt-get install -y ${packages.join(" ")}`;
}

/** A binary the harness needs is missing: says which Debian package provides it. */
export class MissingBinaryError extends StartupError {
  override name = "MissingBinaryError";
  constructor(binary: string, pkg: string) {
    super(
      `"${binary}" was not found (Debian package ${pkg})`,
      `Install it with: ${aptInstallCommand([pkg])}` +
        " (npm start and npm test do this themselves unless MRPS_INSTALL_PACKAGES=0).",
    );
  }
}

/** The last `lines` non-empty lines of a tool's output or log: the part that names the cause. */
export function lastLines(text: string, lines = 5): string {
  return text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "")
    .slice(-lines)
    .join("\n");
}
