import { Registry } from "@million-rps/shared";

/**
 * Metrics of one read process. Hot-path counters are plain numbers in typed
 * arrays (no label maps, no allocation per request); everything is rendered in
 * Prometheus text format only when /metrics is scraped.
 */
export const ROUTES = ["todos", "todo", "command", "health", "other"] as const;
export type RouteIndex = 0 | 1 | 2 | 3 | 4;
export const ROUTE_TODOS = 0;
export const ROUTE_TODO = 1;
export const ROUTE_COMMAND = 2;
export const ROUTE_HEALTH = 3;
export const ROUTE_OTHER = 4;

const STATUS_SLOTS = 600;

export const CACHE_EVENTS = [
  ["l1", "hit"],
  ["l1", "miss"],
  ["l1", "stale"],
  ["l2", "hit"],
  ["l2", "miss"],
  ["l2", "stale"],
  ["l2", "error"],
  ["postgres", "hit"],
  ["postgres", "not_found"],
  ["postgres", "error"],
] as const;
export const L1_HIT = 0;
export const L1_MISS = 1;
export const L1_STALE = 2;
export const L2_HIT = 3;
export const L2_MISS = 4;
export const L2_STALE = 5;
export const L2_ERROR = 6;
export const PG_HIT = 7;
export const PG_NOT_FOUND = 8;
export const PG_ERROR = 9;

export interface GaugeSample {
  name: string;
  help: string;
  values: readonly (readonly [Record<string, string>, number])[];
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

export class FleetMetrics {
  private readonly responses = new Float64Array(ROUTES.length * STATUS_SLOTS);
  private readonly cacheEvents = new Float64Array(CACHE_EVENTS.length);
  private readonly registry = new Registry();
  readonly fillSeconds = this.registry.histogram(
    "read_fill_duration_seconds",
    "Time to fill an L1 miss (from L2 or Postgres), compression included.",
  );
  readonly fillLockWaits = this.registry.counter(
    "read_fill_lock_waits_total",
    "Misses that found another process filling the same key and waited for its result.",
  );
  readonly changeSets = this.registry.counter(
    "read_change_sets_total",
    "Change sets applied (result=applied), and times some were lost beyond the log (result=lost) or Redis lost its data (result=epoch): then everything held is refreshed.",
  );
  readonly changeLag = this.registry.histogram(
    "read_change_lag_seconds",
    "From the worker publishing a change set to this process applying it.",
  );
  readonly refreshes = this.registry.counter(
    "read_refreshes_total",
    "Answers refreshed because a change touched them (or their TTL passed), by result: replaced (new bytes), unchanged (same ETag), failed (kept serving the old bytes).",
  );
  readonly refreshSeconds = this.registry.histogram(
    "read_refresh_seconds",
    "From a change set touching a held answer to its successor being served: how long this process answers from the bytes before the change.",
  );
  readonly l2Bytes = this.registry.counter(
    "read_l2_bytes_total",
    "Bytes of cache entries read from Redis (fills and refreshes).",
  );
  readonly staleServed = this.registry.counter(
    "read_stale_served_total",
    "Cold misses answered with older bytes because nothing newer could be had (stale-if-error).",
  );

  response(route: RouteIndex, status: number): void {
    const i = route * STATUS_SLOTS + status;
    this.responses[i] = (this.responses[i] as number) + 1;
  }

  /** One cache lookup outcome, an index into CACHE_EVENTS. */
  cache(event: number): void {
    this.cacheEvents[event] = (this.cacheEvents[event] as number) + 1;
  }

  render(gauges: readonly GaugeSample[]): string {
    const lines = [
      "# HELP read_http_responses_total Responses sent, by route and status code.",
      "# TYPE read_http_responses_total counter",
    ];
    ROUTES.forEach((route, r) => {
      for (let s = 100; s < STATUS_SLOTS; s++) {
        const n = this.responses[r * STATUS_SLOTS + s] ?? 0;
        if (n > 0) lines.push(`read_http_responses_total{route="${route}",code="${s}"} ${n}`);
      }
    });
    lines.push(
      "# HELP read_cache_requests_total Cache lookups by level and result.",
      "# TYPE read_cache_requests_total counter",
    );
    CACHE_EVENTS.forEach(([level, result], i) => {
      lines.push(
        `read_cache_requests_total{level="${level}",result="${result}"} ${this.cacheEvents[i]}`,
      );
    });
    for (const g of gauges) {
      lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
      for (const [l, v] of g.values) lines.push(`${g.name}${labels(l)} ${v}`);
    }
    return `${lines.join("\n")}\n${this.registry.render()}`;
  }
}
