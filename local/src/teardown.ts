import { StopRequested } from "./errors";

/** How a stop runs; `hurry` aborts when the user insists (a second Ctrl-C): kill instead of waiting. */
export interface StopOptions {
  readonly hurry?: AbortSignal;
}

/** Undoes one started part; resolves to what it stopped, in words for the user (empty: nothing was running). */
export type StopStep = (options: StopOptions) => Promise<readonly string[]>;

export interface StopReport {
  stopped: string[];
  failed: { part: string; error: Error }[];
}

/**
 * Everything one command has started or is still starting, undone in reverse order
 * at any moment. A part is added *before* its start is awaited, so a stop that
 * arrives mid-start still finds it (its step waits for the start to settle, then
 * stops what came up); `signal` tells long waits to give up at once.
 */
export class Teardown {
  readonly #steps: { part: string; stop: StopStep }[] = [];
  readonly #requested = new AbortController();
  readonly #hurry = new AbortController();
  #report: Promise<StopReport> | undefined;

  /** Aborted (with StopRequested) as soon as a stop is requested. */
  get signal(): AbortSignal {
    return this.#requested.signal;
  }

  get requested(): boolean {
    return this.#requested.signal.aborted;
  }

  add(part: string, stop: StopStep): void {
    this.#steps.push({ part, stop });
  }

  /** Stops everything, once; later calls get the same report. */
  run(): Promise<StopReport> {
    this.#report ??= this.#runSteps();
    return this.#report;
  }

  /** Makes a running (or later) stop kill instead of waiting. */
  hurry(): void {
    this.#hurry.abort();
  }

  /** Follows another stop's hurry signal (a teardown nested in another one). */
  hurryWith(signal: AbortSignal | undefined): void {
    if (signal === undefined) return;
    if (signal.aborted) this.hurry();
    else signal.addEventListener("abort", () => this.hurry(), { once: true });
  }

  async #runSteps(): Promise<StopReport> {
    this.#requested.abort(new StopRequested());
    const report: StopReport = { stopped: [], failed: [] };
    // A part added while stopping (a start that was already past its last check) is picked up too.
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      try {
        report.stopped.push(...(await step.stop({ hurry: this.#hurry.signal })));
      } catch (err) {
        report.failed.push({
          part: step.part,
          error: err instanceof Error ? err : new Error(String(err)),
        });
      }
    }
    return report;
  }
}

/** Rejects with StopRequested when `signal` was aborted: call before starting anything new. */
export function throwIfStopping(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StopRequested();
}
