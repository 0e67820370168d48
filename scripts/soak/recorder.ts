import type { FaultKind } from "./schedule";

export const READ_ROUTES = [
  "GET /todos",
  "GET /todos (next page)",
  "GET /todos/{id}",
  "GET /commands/{id}",
] as const;
export const WRITE_ROUTES = ["POST /todos", "PATCH /todos/{id}", "DELETE /todos/{id}"] as const;
export type Route = (typeof READ_ROUTES)[number] | (typeof WRITE_ROUTES)[number];

/** One HTTP exchange the soak made. `status` is the HTTP status, or the network error code. */
export interface Sample {
  /** Start, in ms since traffic began. */
  t: number;
  route: Route;
  status: number | string;
  ms: number;
  /** The answer carried Retry-After. */
  retryAfter: boolean;
}

/** When a fault's effects may show: from the fault until the stack recovered, plus a grace period. */
export interface FaultWindow {
  kind: FaultKind;
  start: number;
  end: number;
  /** What happened, for the report (pids, how long the restart took). */
  detail: string;
}

export type Phase = "steady" | FaultKind;

export function isWrite(route: Route): boolean {
  return (WRITE_ROUTES as readonly string[]).includes(route);
}

/**
 * The answers the product brief allows while a dependency is deliberately down:
 * writes 503 with Retry-After while Kafka is away; a connection reset for reads
 * that were in flight on the read-fleet process we killed. Everything else must be 2xx.
 */
export function allowedInWindow(kind: FaultKind, s: Sample): boolean {
  if (kind === "kafka") return isWrite(s.route) && s.status === 503 && s.retryAfter;
  if (kind === "read-worker") return !isWrite(s.route) && typeof s.status === "string";
  return false;
}

/** Collects samples and fault windows; everything is judged at the end, once the windows are known. */
export class Recorder {
  readonly samples: Sample[] = [];
  readonly windows: FaultWindow[] = [];
  readonly startedAt = Date.now();

  now(): number {
    return Date.now() - this.startedAt;
  }

  record(route: Route, t: number, status: number | string, retryAfter = false): void {
    this.samples.push({ t, route, status, ms: this.now() - t, retryAfter });
  }

  /** Fault windows the exchange overlaps (a write started just before Kafka went away counts). */
  windowsOf(s: Sample): FaultWindow[] {
    return this.windows.filter((w) => s.t <= w.end && s.t + s.ms >= w.start);
  }

  /** The phase an exchange belongs to: the latest fault window it overlaps, else steady. */
  phaseOf(s: Sample): Phase {
    return this.windowsOf(s).at(-1)?.kind ?? "steady";
  }

  /** Non-2xx the brief allows here: inside a window whose fault explains it. */
  allowed(s: Sample): boolean {
    return this.windowsOf(s).some((w) => allowedInWindow(w.kind, s));
  }
}

export function isOk(s: Sample): boolean {
  return typeof s.status === "number" && s.status >= 200 && s.status < 300;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}
