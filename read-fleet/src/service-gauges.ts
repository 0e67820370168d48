import { BREAKER_STATE_VALUE, type CircuitBreaker } from "./circuit-breaker";
import type { GaugeSample } from "./fleet-metrics";

/** What the gauges read from one read process (ReadService has it all). */
export interface GaugeSource {
  readonly generation: number;
  readonly feed: { readonly seq: number };
  readonly refreshesWaiting: number;
  readonly pages: { readonly size: number; readonly bytes: number };
  readonly items: { readonly size: number; readonly bytes: number };
  readonly commands: { readonly size: number };
  readonly breakers: { readonly redis: CircuitBreaker; readonly postgres: CircuitBreaker };
  readonly deps: { readonly redis: { readonly connected: boolean } };
  readonly filler: { readonly inflightCount: number };
}

/** Point-in-time values of one read process, rendered at each scrape. */
export function serviceGauges(service: GaugeSource): GaugeSample[] {
  return [
    {
      name: "read_generation",
      help: "Highest cache generation this process knows of (from change sets and polls).",
      values: [[{}, service.generation]],
    },
    {
      name: "read_change_seq",
      help: "Last change set this process applied.",
      values: [[{}, service.feed.seq]],
    },
    {
      name: "read_refreshes_pending",
      help: "Held answers waiting for, or bringing in, their successor.",
      values: [[{}, service.refreshesWaiting]],
    },
    {
      name: "read_l1_entries",
      help: "Entries in the in-process cache.",
      values: [
        [{ cache: "pages" }, service.pages.size],
        [{ cache: "items" }, service.items.size],
        [{ cache: "commands" }, service.commands.size],
      ],
    },
    {
      name: "read_l1_bytes",
      help: "Bytes held by the in-process cache (all encodings).",
      values: [
        [{ cache: "pages" }, service.pages.bytes],
        [{ cache: "items" }, service.items.bytes],
      ],
    },
    {
      name: "read_circuit_state",
      help: "Circuit breaker state per dependency: 0 closed, 1 open, 2 half-open.",
      values: [
        [{ dependency: "redis" }, BREAKER_STATE_VALUE[service.breakers.redis.state]],
        [{ dependency: "postgres" }, BREAKER_STATE_VALUE[service.breakers.postgres.state]],
      ],
    },
    {
      name: "read_redis_connected",
      help: "1 when a Redis command connection is ready.",
      values: [[{}, service.deps.redis.connected ? 1 : 0]],
    },
    {
      name: "read_fills_in_flight",
      help: "L1 fills running now.",
      values: [[{}, service.filler.inflightCount]],
    },
  ];
}
