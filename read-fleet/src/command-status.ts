import { DependencyError, queryCommandJson } from "@million-rps/shared";
import type { Pool } from "pg";
import type { CircuitBreaker } from "./circuit-breaker";
import { type FleetMetrics, PG_ERROR, PG_HIT, PG_NOT_FOUND } from "./fleet-metrics";
import { buildRepresentation, type Representation } from "./representation";
import { SingleFlight } from "./single-flight";

/** Applied and rejected are final: the answer never changes, so caches may keep it. */
const FINAL_CACHE_CONTROL = "public, max-age=86400, immutable";

/** What looking up a command's status found: its final status, or nothing recorded yet. */
export type CommandLookup = { final: true; rep: Representation } | { final: false };

/**
 * Status of accepted commands (async request-reply). Final statuses are immutable
 * and kept in a bounded per-process map; "not recorded yet" is never cached, so
 * the next poll asks Postgres again.
 */
export class CommandStatuses {
  private readonly finals = new Map<string, Representation>();
  private readonly flights = new SingleFlight<string, CommandLookup>();

  constructor(
    private readonly db: Pool,
    private readonly breaker: CircuitBreaker,
    private readonly metrics: FleetMetrics,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.finals.size;
  }

  cached(commandId: string): Representation | undefined {
    return this.finals.get(commandId);
  }

  lookup(commandId: string): Promise<CommandLookup> {
    return this.flights.run(commandId, () => this.query(commandId));
  }

  private async query(commandId: string): Promise<CommandLookup> {
    let json: string | null;
    try {
      json = await this.breaker.run(() => queryCommandJson(this.db, commandId));
    } catch (err) {
      this.metrics.cache(PG_ERROR);
      throw new DependencyError("postgres", "Postgres is unavailable", { cause: err });
    }
    if (json === null) {
      this.metrics.cache(PG_NOT_FOUND);
      return { final: false };
    }
    this.metrics.cache(PG_HIT);
    const rep = await buildRepresentation(json, { cacheControl: FINAL_CACHE_CONTROL });
    if (this.finals.size >= this.maxEntries) {
      // Oldest first: entries never change, so recency matters little.
      const oldest = this.finals.keys().next().value;
      if (oldest !== undefined) this.finals.delete(oldest);
    }
    this.finals.set(commandId, rep);
    return { final: true, rep };
  }
}
