/**
 * A circuit breaker per dependency: after `failures` consecutive failures it opens
 * and refuses calls for `openMs`, then lets one trial call through (half-open);
 * that call's outcome closes or re-opens it. Pure: time is passed in.
 */
export type BreakerState = "closed" | "open" | "half-open";

export const BREAKER_STATE_VALUE: Record<BreakerState, number> = {
  closed: 0,
  open: 1,
  "half-open": 2,
};

export class CircuitOpenError extends Error {
  override name = "CircuitOpenError";
  constructor(readonly dependency: string) {
    super(`${dependency} circuit is open: not calling it for now`);
  }
}

export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private stateNow: BreakerState = "closed";

  constructor(
    readonly dependency: string,
    private readonly failures: number,
    private readonly openMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (this.stateNow === "open" && this.now() - this.openedAt >= this.openMs) {
      this.stateNow = "half-open";
      this.trialInFlight = false;
    }
    return this.stateNow;
  }

  /** Whether a call may go through now. In half-open, only one trial at a time. */
  allow(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.consecutiveFailures = 0;
    this.trialInFlight = false;
    this.stateNow = "closed";
  }

  failure(): void {
    this.trialInFlight = false;
    this.consecutiveFailures++;
    if (this.stateNow === "half-open" || this.consecutiveFailures >= this.failures) {
      this.stateNow = "open";
      this.openedAt = this.now();
    }
  }

  /**
   * Runs `call` through the breaker; rejects with CircuitOpenError without calling
   * when open. `isFailure` tells errors that mean the dependency is failing from
   * ones where it answered (e.g. it refused the request's data): only the former count.
   */
  async run<T>(
    call: () => Promise<T>,
    isFailure: (err: unknown) => boolean = () => true,
  ): Promise<T> {
    if (!this.allow()) throw new CircuitOpenError(this.dependency);
    try {
      const result = await call();
      this.success();
      return result;
    } catch (err) {
      if (isFailure(err)) this.failure();
      else this.success();
      throw err;
    }
  }
}
