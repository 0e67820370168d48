import type { FaultKind } from "./schedule";

export const READ_ROUTES = [
  "GET /todos",
  "GET /todos (next page)",
  "GET /todos/{id}",
  "GET /commands/{id}",
  "GET /todos (pipelined)",
  "GET /todos (pipelined, If-None-Match)",
] as const;
export const WRITE_ROUTES = ["POST /todos", "PATCH /todos/{id}", "DELETE /todos/{id}"] as const;
export type Route = (typeof READ_ROUTES)[number] | (typeof WRITE_ROUTES)[number];

/** Pipelined requests go to the hot page only (HOT_PAGES): the one answer the fleet keeps ready for pipelining. */
export const PIPELINED_ROUTES: readonly Route[] = [
  "GET /todos (pipelined)",
  "GET /todos (pipelined, If-None-Match)",
];

/**
 * Reads whose answer may be held by no process and no L2 entry (a cursor nobody
 * followed yet, a todo this process never served whose L2 entry expired, a command
 * not recorded yet): the only reads a Postgres outage can turn into a 503.
 */
export const MAY_BE_HELD_NOWHERE: readonly Route[] = [
  "GET /todos (next page)",
  "GET /todos/{id}",
  "GET /commands/{id}",
];

/** Status of an exchange that got no HTTP answer: the pipelined connection was closed under it. */
export const UNANSWERED = "unanswered (connection closed)";

/** One HTTP exchange the soak made. `status` is the HTTP status, or the network error code. */
export interface Sample {
  /** Start, in ms since traffic began. */
  t: number;
  route: Route;
  status: number | string;
  ms: number;
  /** The answer carried Retry-After. */
  retryAfter: boolean;
  /** A write retried after an attempt that got no answer (its first may still be in flight at the server). */
  afterNoAnswer?: boolean;
  /** A write's op (Writer.ops index), so a finding can show that write's every attempt. */
  op?: number;
}

/** A pipelined connection the server closed (or reset) while the soak still used it. */
export interface ServerClose {
  t: number;
  /** Requests sent on it and never answered. */
  unanswered: number;
  /** Answers it carried before. */
  answered?: number;
  /** With nothing in flight: how long it had been idle (a server's idle timeout shows here). */
  idleMs?: number;
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

/** What each fault window allows, in words (printed with the report; `allowedInWindow` is the code). */
export const WINDOW_ALLOWS: Record<FaultKind, string> = {
  "read-worker":
    "reads only: a connection error, or a pipelined connection closed with its requests unanswered (the killed process held them); never an HTTP error",
  redis:
    "writes only: 503 with Retry-After (the Idempotency-Key store is down; nothing sent); reads must stay 200",
  postgres:
    "reads only, and only those an outage can leave held nowhere (next page, todo by id, command poll): 503 with Retry-After; first pages, pipelined reads and every write must stay 2xx",
  worker: "nothing: writes are accepted (Kafka holds them), reads answer from the cache",
  kafka: "writes only: 503 with Retry-After (not appended, retried with the same key)",
};

/**
 * The answers the product brief allows while a dependency is deliberately down
 * (see WINDOW_ALLOWS). Everything else must be 2xx (or a 304 to a conditional read).
 */
export function allowedInWindow(kind: FaultKind, s: Sample): boolean {
  const write = isWrite(s.route);
  const retry503 = s.status === 503 && s.retryAfter;
  if (kind === "kafka" || kind === "redis") return write && retry503;
  if (kind === "postgres") return !write && retry503 && MAY_BE_HELD_NOWHERE.includes(s.route);
  if (kind === "read-worker") return !write && typeof s.status === "string";
  return false;
}

/**
 * Allowed in any phase: a 409 with Retry-After to a write retried after an attempt
 * that got no answer (the first attempt may still be being accepted). The attempt
 * without an answer is judged on its own.
 */
export function allowedAnywhere(s: Sample): boolean {
  return isWrite(s.route) && s.status === 409 && s.retryAfter && s.afterNoAnswer === true;
}

/** Collects samples and fault windows; everything is judged at the end, once the windows are known. */
export class Recorder {
  readonly samples: Sample[] = [];
  readonly windows: FaultWindow[] = [];
  readonly serverCloses: ServerClose[] = [];
  readonly startedAt = Date.now();

  now(): number {
    return Date.now() - this.startedAt;
  }

  record(
    route: Route,
    t: number,
    status: number | string,
    retryAfter = false,
    afterNoAnswer = false,
    op?: number,
  ): void {
    const s: Sample = { t, route, status, ms: this.now() - t, retryAfter };
    if (afterNoAnswer) s.afterNoAnswer = true;
    if (op !== undefined) s.op = op;
    this.samples.push(s);
  }

  /** Fault windows the exchange overlaps (a write started just before Kafka went away counts). */
  windowsOf(s: Sample): FaultWindow[] {
    return this.windows.filter((w) => s.t <= w.end && s.t + s.ms >= w.start);
  }

  /** The phase an exchange belongs to: the latest fault window it overlaps, else steady. */
  phaseOf(s: Sample): Phase {
    return this.windowsOf(s).at(-1)?.kind ?? "steady";
  }

  /** Non-2xx the brief allows here: inside a window whose fault explains it (or a 409 its own retry explains). */
  allowed(s: Sample): boolean {
    return allowedAnywhere(s) || this.windowsOf(s).some((w) => allowedInWindow(w.kind, s));
  }

  /** A server-closed pipelined connection is allowed only while a read-fleet process is being killed and replaced. */
  closeAllowed(c: ServerClose): boolean {
    return this.windows.some((w) => w.kind === "read-worker" && c.t >= w.start && c.t <= w.end);
  }
}

export function isOk(s: Sample): boolean {
  if (typeof s.status !== "number") return false;
  if (s.status === 304) return s.route === "GET /todos (pipelined, If-None-Match)";
  return s.status >= 200 && s.status < 300;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}
