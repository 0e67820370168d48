import { type CacheEntry, type CacheKeys, type ChangeSet, cacheKeys } from "@million-rps/shared";
import type { Logger } from "@million-rps/shared/log";
import type { Pool } from "pg";
import { ChangeFeed, type FeedMark } from "./change-feed";
import { CircuitBreaker } from "./circuit-breaker";
import { CommandStatuses } from "./command-status";
import type { ReadFleetConfig } from "./config";
import { Filler } from "./fill";
import { FleetMetrics, L2_PUSHED } from "./fleet-metrics";
import type { ProcessMetrics } from "./fleet-metrics-merge";
import { type ItemAnswer, itemAnswer, itemTouchedBy } from "./item-answer";
import { L1Budget, L1Cache, type Sized, type Slot } from "./l1-cache";
import { acceptEncodingMemo } from "./negotiation";
import { type PageAnswer, PageCache, pageAnswerOf, pageTouchedBy } from "./page-cache";
import { type PageQuery, parsePageQuery } from "./page-query";
import { PushedEntries } from "./pushed-entries";
import type { RedisClients } from "./redis-clients";
import { Refresher, type RefreshResult } from "./refresher";
import { registerServiceGauges } from "./service-gauges";

export interface ReadServiceDeps {
  config: ReadFleetConfig;
  db: Pool;
  redis: RedisClients;
  log: Logger;
}

const CLOCK_TICK_MS = 25;

/**
 * The state one read process serves from: the caches, the fills and refreshes
 * that keep them, the change feed, metrics. The cache model (ARCHITECTURE.md): a
 * change set marks exactly the answers it touches; each keeps answering until its
 * successor is in, then is swapped in place. No request waits for a change.
 */
export class ReadService {
  readonly metrics = new FleetMetrics();
  readonly keys: CacheKeys;
  readonly pages: PageCache;
  readonly items: L1Cache<ItemAnswer>;
  readonly commands: CommandStatuses;
  readonly filler: Filler;
  readonly pushed = new PushedEntries();
  readonly feed: ChangeFeed;
  readonly breakers: { redis: CircuitBreaker; postgres: CircuitBreaker };
  readonly negotiate = acceptEncodingMemo();
  readonly ttlMs: number;
  /** Coarse clock for TTL checks: one Date.now() per tick, not per request. */
  now = Date.now();
  /** Set on SIGTERM: answers carry `Connection: close` and /readyz says 503. */
  draining = false;
  /** Requests waiting on a fill or lookup; shutdown lets them finish. */
  pending = 0;
  private readonly refresher: Refresher;
  private clock: NodeJS.Timeout | undefined;

  constructor(readonly deps: ReadServiceDeps) {
    const { config } = deps;
    this.keys = cacheKeys(config.cacheKeyPrefix);
    this.ttlMs = config.cacheTtlSec * 1000;
    this.breakers = {
      redis: new CircuitBreaker("redis", config.breakerFailures, config.breakerOpenMs),
      postgres: new CircuitBreaker("postgres", config.breakerFailures, config.breakerOpenMs),
    };
    this.pages = new PageCache(new L1Budget(config.l1MaxEntries, config.l1MaxBytes));
    // Items are small and many: their own budget, a quarter of the bytes.
    this.items = new L1Cache(new L1Budget(config.l1MaxEntries, Math.floor(config.l1MaxBytes / 4)));
    this.commands = new CommandStatuses(
      deps.db,
      this.breakers.postgres,
      this.metrics,
      config.l1MaxEntries,
    );
    this.feed = new ChangeFeed({
      clients: deps.redis,
      keys: this.keys,
      pollMs: config.changePollMs,
      log: deps.log,
      onChangeSet: (cs) => this.apply(cs),
      onHotEntries: (message) => {
        if (!this.pushed.offer(message))
          this.deps.log.warn("ignoring a push this version cannot read");
      },
      onLost: (generation, lostData) => this.lost(generation, lostData),
    });
    this.filler = new Filler({
      redis: deps.redis,
      db: deps.db,
      keys: this.keys,
      ttlSec: config.cacheTtlSec,
      fillLockMs: config.fillLockMs,
      breakers: this.breakers,
      metrics: this.metrics,
      knownGeneration: () => this.feed.generation,
    });
    this.refresher = new Refresher({
      concurrency: config.refreshConcurrency,
      metrics: this.metrics,
      log: deps.log,
      now: () => this.now,
    });
    registerServiceGauges(this.metrics.registry, this);
  }

  /** Highest generation this process knows of. */
  get generation(): number {
    return this.feed.generation;
  }

  get refreshesWaiting(): number {
    return this.refresher.waiting;
  }

  async start(): Promise<void> {
    this.clock = setInterval(() => {
      this.now = Date.now();
    }, CLOCK_TICK_MS);
    this.clock.unref();
    // Serve without Redis if it is away at start: fills go to Postgres, the feed catches up.
    await this.deps.redis.ready(Math.min(2_000, this.deps.config.redisTimeoutMs * 4));
    await this.feed.start();
  }

  stop(): void {
    this.feed.stop();
    this.refresher.stop();
    if (this.clock !== undefined) clearInterval(this.clock);
  }

  /**
   * Loads the hot pages before the process takes requests, so a pipelined client
   * never meets a cold miss on them (uWS closes a pipelined connection whose answer
   * must wait). Best effort: without Redis and Postgres it starts cold.
   */
  async warm(hotPages: readonly { limit: number; pages: number }[]): Promise<number> {
    let loaded = 0;
    for (const { limit, pages } of hotPages) {
      let raw = `limit=${limit}`;
      for (let i = 0; i < pages; i++) {
        const slot = await this.fillPage(parsePageQuery(raw)).catch(() => null);
        if (slot === null) break;
        loaded++;
        const next = slot.value.next;
        if (next === null) break;
        raw = `limit=${limit}&cursor=${next}`;
      }
    }
    return loaded;
  }

  /** A cold page: fill it, store it, and check it against what changed while it filled. */
  async fillPage(query: PageQuery): Promise<Slot<PageAnswer>> {
    const mark = this.feed.mark();
    const entry = await this.filler.page(query, 0);
    const answer = pageAnswerOf(query, entry, this.deps.config.cacheControl);
    const slot = this.store(this.pages, query.key, answer, entry.stamp);
    if (this.recheck(slot, mark, pageTouchedBy)) this.refreshPage(slot);
    return slot;
  }

  /** A cold todo (or "no such todo"), likewise. */
  async fillItem(id: string): Promise<Slot<ItemAnswer>> {
    const mark = this.feed.mark();
    const entry = await this.filler.item(id, 0);
    const answer = itemAnswer(entry, this.deps.config.cacheControl);
    const slot = this.store(this.items, id, answer, entry.stamp);
    if (this.recheck(slot, mark, itemTouchedBy)) this.refreshItem(slot);
    return slot;
  }

  /** A page hit past its TTL: check it against L2 again (it still answers meanwhile). */
  expiredPage(slot: Slot<PageAnswer>): void {
    slot.fetchedAt = this.now; // one revalidation per TTL, however many hits see it
    slot.revalidate = true;
    this.refreshPage(slot);
  }

  expiredItem(slot: Slot<ItemAnswer>): void {
    slot.fetchedAt = this.now;
    slot.revalidate = true;
    this.refreshItem(slot);
  }

  /** Ready when Redis answers, or when there is a warm L1 to serve from. */
  ready(): boolean {
    return !this.draining && (this.deps.redis.connected || this.pages.size > 0);
  }

  /** This process's metrics in Prometheus text (tests, a single process). */
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }

  /** This process's metrics as prom-client JSON: what the supervisor merges over IPC. */
  async metricsJson(): Promise<ProcessMetrics> {
    return (await this.metrics.registry.getMetricsAsJSON()) as unknown as ProcessMetrics;
  }

  private apply(cs: ChangeSet): void {
    this.metrics.changeSets.inc({ result: "applied" });
    this.metrics.changeLag.observe(Math.max(0, Date.now() - cs.publishedAt) / 1000);
    const g = cs.generation;
    if (cs.reset) {
      for (const slot of this.pages.slots()) if (raise(slot, g, this.now)) this.refreshPage(slot);
      for (const slot of this.items.slots()) if (raise(slot, g, this.now)) this.refreshItem(slot);
      return;
    }
    for (const c of cs.changes) {
      const slot = this.items.peek(c.id);
      if (slot !== undefined && raise(slot, g, this.now)) this.refreshItem(slot);
    }
    for (const slot of this.pages.touchedBy(cs))
      if (raise(slot, g, this.now)) this.refreshPage(slot);
  }

  /**
   * Change sets were missed beyond the log: check everything held against L2 (which
   * knows every change since each entry's stamp). If Redis lost its data, stamps
   * from before mean nothing any more: everything is read again.
   */
  private lost(generation: number, lostData: boolean): void {
    this.metrics.changeSets.inc({ result: lostData ? "epoch" : "lost" });
    if (lostData) this.pushed.clear();
    for (const slot of this.pages.slots()) {
      if (lostData) slot.stamp = -1;
      slot.revalidate = true;
      raise(slot, generation, this.now);
      this.refreshPage(slot);
    }
    for (const slot of this.items.slots()) {
      if (lostData) slot.stamp = -1;
      slot.revalidate = true;
      raise(slot, generation, this.now);
      this.refreshItem(slot);
    }
  }

  private refreshPage(slot: Slot<PageAnswer>): void {
    this.refresher.schedule(slot, async (want) => {
      const mark = this.feed.mark();
      const { limit, cursor } = slot.value.query;
      const entry =
        this.pushedEntry(slot, this.keys.page(limit, cursor), want) ??
        (await this.filler.page(slot.value.query, want));
      const answer = pageAnswerOf(slot.value.query, entry, this.deps.config.cacheControl);
      const result = this.swap(this.pages, slot, answer, entry.stamp);
      this.recheck(slot, mark, pageTouchedBy);
      return result;
    });
  }

  /**
   * The successor the worker pushed just before the change set that asks for it, when a
   * change asked for one (a revalidation asks L2, which knows every change since).
   */
  private pushedEntry(slot: Slot<Sized>, key: string, want: number): CacheEntry | null {
    if (want <= slot.stamp) return null;
    const entry = this.pushed.take(key, want);
    if (entry !== null) this.metrics.cache(L2_PUSHED);
    return entry;
  }

  private refreshItem(slot: Slot<ItemAnswer>): void {
    this.refresher.schedule(slot, async (want) => {
      const mark = this.feed.mark();
      const entry =
        this.pushedEntry(slot, this.keys.item(slot.key), want) ??
        (await this.filler.item(slot.key, want));
      const result = this.swap(
        this.items,
        slot,
        itemAnswer(entry, this.deps.config.cacheControl),
        entry.stamp,
      );
      this.recheck(slot, mark, itemTouchedBy);
      return result;
    });
  }

  /** Swaps in a successor unless it is older than what the slot holds. */
  private swap<V extends Sized & { etag: string }>(
    cache: L1Cache<V>,
    slot: Slot<V>,
    value: V,
    stamp: number,
  ): RefreshResult {
    if (stamp < slot.stamp) return "older";
    const same = slot.value.etag === value.etag;
    cache.replace(slot, value, stamp, this.now);
    return same ? "unchanged" : "replaced";
  }

  private store<V extends Sized>(cache: L1Cache<V>, key: string, value: V, stamp: number): Slot<V> {
    const held = cache.peek(key);
    if (held !== undefined && held.stamp > stamp) return held; // a refresh got there first
    return cache.set(key, value, stamp, this.now);
  }

  /**
   * Change sets that arrived while a fill ran were matched against the content held
   * before it: match them against the new content. True when a refresh is due.
   */
  private recheck<V extends Sized>(
    slot: Slot<V>,
    mark: FeedMark,
    touched: (value: V, cs: ChangeSet) => boolean,
  ): boolean {
    const later = this.feed.since(mark);
    if (later === null) {
      slot.revalidate = true; // they can no longer be listed: ask L2
      return true;
    }
    for (const cs of later) {
      if (cs.generation > slot.stamp && (cs.reset || touched(slot.value, cs))) {
        raise(slot, cs.generation, this.now);
      }
    }
    return slot.want > slot.stamp || slot.revalidate;
  }
}

/** Records that `generation` changes the slot; true when a refresh is due. */
function raise(slot: Slot<Sized>, generation: number, now: number): boolean {
  if (generation > slot.want) {
    if (slot.want <= slot.stamp) slot.markedAt = now;
    slot.want = generation;
  }
  return slot.want > slot.stamp;
}
