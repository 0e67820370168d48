import { Gauge, type Registry } from "prom-client";
import { BREAKER_STATE_VALUE, type CircuitBreaker } from "./circuit-breaker";

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

/** Point-in-time values of one read process, read from `source` at each scrape. */
export function registerServiceGauges(registry: Registry, source: GaugeSource): void {
  const registers = [registry];
  new Gauge({
    name: "read_generation",
    help: "Highest cache generation this process knows of (from change sets and polls).",
    registers,
    collect() {
      this.set(source.generation);
    },
  });
  new Gauge({
    name: "read_change_seq",
    help: "Last change set this process applied.",
    registers,
    collect() {
      this.set(source.feed.seq);
    },
  });
  new Gauge({
    name: "read_refreshes_pending",
    help: "Held answers waiting for, or bringing in, their successor.",
    registers,
    collect() {
      this.set(source.refreshesWaiting);
    },
  });
  new Gauge({
    name: "read_l1_entries",
    help: "Entries in the in-process cache.",
    labelNames: ["cache"],
    registers,
    collect() {
      this.set({ cache: "pages" }, source.pages.size);
      this.set({ cache: "items" }, source.items.size);
      this.set({ cache: "commands" }, source.commands.size);
    },
  });
  new Gauge({
    name: "read_l1_bytes",
    help: "Bytes held by the in-process cache (all encodings).",
    labelNames: ["cache"],
    registers,
    collect() {
      this.set({ cache: "pages" }, source.pages.bytes);
      this.set({ cache: "items" }, source.items.bytes);
    },
  });
  new Gauge({
    name: "read_circuit_state",
    help: "Circuit breaker state per dependency: 0 closed, 1 open, 2 half-open.",
    labelNames: ["dependency"],
    registers,
    collect() {
      this.set({ dependency: "redis" }, BREAKER_STATE_VALUE[source.breakers.redis.state]);
      this.set({ dependency: "postgres" }, BREAKER_STATE_VALUE[source.breakers.postgres.state]);
    },
  });
  new Gauge({
    name: "read_redis_connected",
    help: "1 when a Redis command connection is ready.",
    registers,
    collect() {
      this.set(source.deps.redis.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: "read_fills_in_flight",
    help: "L1 fills running now.",
    registers,
    collect() {
      this.set(source.filler.inflightCount);
    },
  });
}
