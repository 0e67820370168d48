import { type CacheKeys, cacheKeys, type Logger } from "@million-rps/shared";
import type { Pool } from "pg";
import { CircuitBreaker } from "./circuit-breaker";
import { CommandStatuses } from "./command-status";
import type { ReadFleetConfig } from "./config";
import { Filler } from "./fill";
import { FleetMetrics } from "./fleet-metrics";
import { type GenerationSource, GenerationWatch } from "./generation-watch";
import { GenerationCache, L1Budget } from "./l1-cache";
import { acceptEncodingMemo } from "./negotiation";
import type { RedisClients } from "./redis-clients";
import type { Representation } from "./representation";
import { serviceGauges } from "./service-gauges";

/** L1 value of `GET /todos/:id`: null remembers "no such todo" for this generation. */
export interface ItemEntry {
  readonly rep: Representation | null;
  readonly bytes: number;
}

export interface ReadServiceDeps {
  config: ReadFleetConfig;
  db: Pool;
  redis: RedisClients;
  log: Logger;
}

const CLOCK_TICK_MS = 25;

/** The state one read process serves from: caches, fillers, generation, metrics. */
export class ReadService {
  readonly metrics = new FleetMetrics();
  readonly keys: CacheKeys;
  readonly pages: GenerationCache<Representation>;
  readonly items: GenerationCache<ItemEntry>;
  readonly commands: CommandStatuses;
  readonly filler: Filler;
  readonly watch: GenerationWatch;
  readonly breakers: { redis: CircuitBreaker; postgres: CircuitBreaker };
  readonly negotiate = acceptEncodingMemo();
  readonly ttlMs: number;
  /** Coarse clock for freshness checks: one Date.now() per tick, not per request. */
  now = Date.now();
  /** Set on SIGTERM: answers carry `Connection: close` and /readyz says 503. */
  draining = false;
  /** Requests waiting on a fill or lookup; shutdown lets them finish. */
  pending = 0;
  private clock: NodeJS.Timeout | undefined;

  constructor(readonly deps: ReadServiceDeps) {
    const { config } = deps;
    this.keys = cacheKeys(config.cacheKeyPrefix);
    this.ttlMs = config.cacheTtlSec * 1000;
    this.breakers = {
      redis: new CircuitBreaker("redis", config.breakerFailures, config.breakerOpenMs),
      postgres: new CircuitBreaker("postgres", config.breakerFailures, config.breakerOpenMs),
    };
    this.pages = new GenerationCache(new L1Budget(config.l1MaxEntries, config.l1MaxBytes));
    // Items are small and many: their own budget, a quarter of the bytes.
    this.items = new GenerationCache(
      new L1Budget(config.l1MaxEntries, Math.floor(config.l1MaxBytes / 4)),
    );
    this.commands = new CommandStatuses(
      deps.db,
      this.breakers.postgres,
      this.metrics,
      config.l1MaxEntries,
    );
    this.filler = new Filler({
      redis: deps.redis,
      db: deps.db,
      keys: this.keys,
      ttlSec: config.cacheTtlSec,
      fillLockMs: config.fillLockMs,
      cacheControl: config.cacheControl,
      breakers: this.breakers,
      metrics: this.metrics,
      log: deps.log,
    });
    this.watch = new GenerationWatch({
      clients: deps.redis,
      keys: this.keys,
      pollMs: config.generationPollMs,
      log: deps.log,
      onGeneration: (generation, via) => this.onGeneration(generation, via),
    });
  }

  get generation(): number {
    return this.pages.generation;
  }

  async start(): Promise<void> {
    this.clock = setInterval(() => {
      this.now = Date.now();
    }, CLOCK_TICK_MS);
    this.clock.unref();
    // Serve without Redis if it is away at start: fills go to Postgres, the watch catches up.
    await this.deps.redis.ready(Math.min(2_000, this.deps.config.redisTimeoutMs * 4));
    await this.watch.start();
  }

  stop(): void {
    this.watch.stop();
    if (this.clock !== undefined) clearInterval(this.clock);
  }

  onGeneration(generation: number, via: GenerationSource): void {
    if (generation === this.pages.generation && via !== "reconnect") return;
    if (via === "pubsub" && generation < this.pages.generation) {
      // Published numbers only grow; a lower one is either stale or Redis was reset: ask the key.
      void this.watch.poll("poll");
      return;
    }
    const from = this.pages.generation;
    // After a reconnect even the same number starts afresh: a Redis restarted empty reuses numbers.
    this.pages.reset(generation);
    this.items.reset(generation);
    this.metrics.generationChanges.inc({ via });
    this.deps.log.debug("generation changed", { from, to: generation, via });
  }

  /** Ready when Redis answers, or when there is a warm L1 to serve from. */
  ready(): boolean {
    return !this.draining && (this.deps.redis.connected || this.pages.size > 0);
  }

  renderMetrics(): string {
    return this.metrics.render(serviceGauges(this));
  }
}
