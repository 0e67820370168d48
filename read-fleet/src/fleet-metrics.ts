import { SECONDS_BUCKETS } from "@million-rps/shared/metrics";
import { Counter, Histogram, Registry } from "prom-client";

/**
 * Metrics of one read process, in a prom-client registry. The hot path's counters
 * (responses by route and status, cache lookups) stay plain numbers in typed
 * arrays: a request does one indexed increment, no label lookup, no allocation.
 * prom-client reads them through collect() only when /metrics is scraped.
 */
export const ROUTES = ["todos", "todo", "command", "health", "other"] as const;
export type RouteIndex = 0 | 1 | 2 | 3 | 4;
export const ROUTE_TODOS = 0;
export const ROUTE_TODO = 1;
export const ROUTE_COMMAND = 2;
export const ROUTE_HEALTH = 3;
export const ROUTE_OTHER = 4;

const STATUS_SLOTS = 600;

const CACHE_EVENTS = [
  ["l1", "hit"],
  ["l1", "miss"],
  ["l1", "stale"], // never counted (a hit on an answer being refreshed is a hit): stays 0
  ["l2", "hit"],
  ["l2", "miss"],
  ["l2", "stale"],
  ["l2", "error"],
  ["postgres", "hit"],
  ["postgres", "not_found"],
  ["postgres", "error"],
  ["l2", "pushed"], // a hot page the worker pushed with its publication: no read at all
] as const;
export const L1_HIT = 0;
export const L1_MISS = 1;
export const L2_HIT = 3;
export const L2_MISS = 4;
export const L2_STALE = 5;
export const L2_ERROR = 6;
export const PG_HIT = 7;
export const PG_NOT_FOUND = 8;
export const PG_ERROR = 9;
export const L2_PUSHED = 10;

export class FleetMetrics {
  private readonly responses = new Float64Array(ROUTES.length * STATUS_SLOTS);
  private readonly cacheEvents = new Float64Array(CACHE_EVENTS.length);
  readonly registry = new Registry();
  private readonly registers = [this.registry];
  readonly fillSeconds = new Histogram({
    name: "read_fill_duration_seconds",
    help: "Time to fill an L1 miss (from L2 or Postgres), compression included.",
    buckets: [...SECONDS_BUCKETS],
    registers: this.registers,
  });
  readonly fillLockWaits = new Counter({
    name: "read_fill_lock_waits_total",
    help: "Misses that found another process filling the same key and waited for its result.",
    registers: this.registers,
  });
  readonly changeSets = new Counter({
    name: "read_change_sets_total",
    help: "Change sets applied (result=applied), and times some were lost beyond the log (result=lost) or Redis lost its data (result=epoch): then everything held is refreshed.",
    labelNames: ["result"],
    registers: this.registers,
  });
  readonly changeLag = new Histogram({
    name: "read_change_lag_seconds",
    help: "From the worker publishing a change set to this process applying it.",
    buckets: [...SECONDS_BUCKETS],
    registers: this.registers,
  });
  readonly refreshes = new Counter({
    name: "read_refreshes_total",
    help: "Answers refreshed because a change touched them (or their TTL passed), by result: replaced (new bytes), unchanged (same ETag), failed (kept serving the old bytes).",
    labelNames: ["result"],
    registers: this.registers,
  });
  readonly refreshSeconds = new Histogram({
    name: "read_refresh_seconds",
    help: "From a change set touching a held answer to its successor being served: how long this process answers from the bytes before the change.",
    buckets: [...SECONDS_BUCKETS],
    registers: this.registers,
  });
  readonly l2Bytes = new Counter({
    name: "read_l2_bytes_total",
    help: "Bytes of cache entries read from Redis (fills and refreshes).",
    registers: this.registers,
  });
  readonly staleServed = new Counter({
    name: "read_stale_served_total",
    help: "Cold misses answered with older bytes because nothing newer could be had (stale-if-error).",
    labelNames: ["reason"],
    registers: this.registers,
  });

  constructor() {
    const { responses, cacheEvents } = this;
    new Counter({
      name: "read_http_responses_total",
      help: "Responses sent, by route and status code.",
      labelNames: ["route", "code"],
      registers: this.registers,
      collect() {
        this.reset();
        ROUTES.forEach((route, r) => {
          for (let s = 100; s < STATUS_SLOTS; s++) {
            const n = responses[r * STATUS_SLOTS + s] ?? 0;
            if (n > 0) this.inc({ route, code: String(s) }, n);
          }
        });
      },
    });
    new Counter({
      name: "read_cache_requests_total",
      help: "Cache lookups by level and result.",
      labelNames: ["level", "result"],
      registers: this.registers,
      collect() {
        this.reset();
        CACHE_EVENTS.forEach(([level, result], i) => {
          this.inc({ level, result }, cacheEvents[i] ?? 0);
        });
      },
    });
  }

  response(route: RouteIndex, status: number): void {
    const i = route * STATUS_SLOTS + status;
    this.responses[i] = (this.responses[i] as number) + 1;
  }

  /** One cache lookup outcome, an index into CACHE_EVENTS. */
  cache(event: number): void {
    this.cacheEvents[event] = (this.cacheEvents[event] as number) + 1;
  }
}
