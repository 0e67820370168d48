import { randomBytes } from "node:crypto";
import {
  type CacheKeys,
  DependencyError,
  decodeCursor,
  decodePageEntry,
  encodePageEntry,
  type Logger,
  queryTodoJson,
  queryTodoPage,
  type TodoPage,
} from "@million-rps/shared";
import type { Pool } from "pg";
import type { CircuitBreaker } from "./circuit-breaker";
import {
  type FleetMetrics,
  L2_ERROR,
  L2_HIT,
  L2_MISS,
  PG_ERROR,
  PG_HIT,
  PG_NOT_FOUND,
} from "./fleet-metrics";
import { nextLink, type PageQuery } from "./page-query";
import type { RedisClients } from "./redis-clients";
import { buildRepresentation, type Representation } from "./representation";

export interface FillDeps {
  redis: RedisClients;
  db: Pool;
  keys: CacheKeys;
  ttlSec: number;
  fillLockMs: number;
  cacheControl: string;
  breakers: { redis: CircuitBreaker; postgres: CircuitBreaker };
  metrics: FleetMetrics;
  log: Logger;
}

// Deletes the lock only if we still hold it (it may have expired and been taken by another).
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
/** L2 marker for "no such todo in this generation". */
const ITEM_ABSENT = "";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Fills L1 misses: L2 (Redis) first, then Postgres, with one flight per key in
 * this process and a short Redis lock across processes, so a new generation costs
 * Postgres one query per page. Entries are written to L2 under the generation the
 * caller read with. Redis failures fall through to Postgres (no L2 write);
 * Postgres failures reject with DependencyError for the caller's stale-if-error.
 */
export class Filler {
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: FillDeps) {}

  get inflightCount(): number {
    return this.inflight.size;
  }

  page(generation: number, query: PageQuery): Promise<Representation> {
    const key = this.deps.keys.page(generation, query.limit, query.cursor);
    return this.once(key, async () => {
      const page = await this.pageFromL2OrPostgres(key, query);
      return buildRepresentation(page.json, {
        cacheControl: this.deps.cacheControl,
        extraHeaders: page.next === null ? [] : [["Link", nextLink(query.limit, page.next)]],
      });
    });
  }

  /** A todo's representation, or null when it does not exist. */
  item(generation: number, id: string): Promise<Representation | null> {
    const key = this.deps.keys.item(generation, id);
    return this.once(key, async () => {
      let json = await this.l2Get(key);
      if (json === null) {
        json = (await this.postgres((db) => queryTodoJson(db, id))) ?? ITEM_ABSENT;
        this.deps.metrics.cache(json === ITEM_ABSENT ? PG_NOT_FOUND : PG_HIT);
        this.l2Set(key, json);
      }
      if (json === ITEM_ABSENT) return null;
      return buildRepresentation(json, { cacheControl: this.deps.cacheControl });
    });
  }

  private async pageFromL2OrPostgres(key: string, query: PageQuery): Promise<TodoPage> {
    const cached = decodeOrNull(await this.l2Get(key));
    if (cached !== null) return cached;
    const lock = await this.tryLock(key);
    if (lock === false) {
      // Another process is filling this key: wait for its result rather than query too.
      this.deps.metrics.fillLockWaits.inc();
      const deadline = Date.now() + this.deps.fillLockMs;
      for (let wait = 5; Date.now() < deadline; wait = Math.min(wait * 2, 50)) {
        await sleep(wait);
        const filled = decodeOrNull(await this.l2Get(key));
        if (filled !== null) return filled;
      }
    }
    try {
      const cursor = query.cursor === null ? null : decodeCursor(query.cursor);
      const page = await this.postgres((db) => queryTodoPage(db, query.limit, cursor));
      this.deps.metrics.cache(PG_HIT);
      this.l2Set(key, encodePageEntry(page));
      return page;
    } finally {
      if (typeof lock === "string") this.unlock(key, lock);
    }
  }

  private once<T>(key: string, fill: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key);
    if (running !== undefined) return running as Promise<T>;
    const started = performance.now();
    const flight = fill().finally(() => {
      this.inflight.delete(key);
      this.deps.metrics.fillSeconds.observe((performance.now() - started) / 1000);
    });
    this.inflight.set(key, flight);
    return flight;
  }

  private async postgres<T>(query: (db: Pool) => Promise<T>): Promise<T> {
    try {
      return await this.deps.breakers.postgres.run(() => query(this.deps.db));
    } catch (err) {
      this.deps.metrics.cache(PG_ERROR);
      throw new DependencyError("postgres", "Postgres is unavailable", { cause: err });
    }
  }

  /** null on a miss and on any Redis failure (the caller then goes to Postgres). */
  private async l2Get(key: string): Promise<string | null> {
    try {
      const value = await this.deps.breakers.redis.run(() => this.deps.redis.next().get(key));
      this.deps.metrics.cache(value === null ? L2_MISS : L2_HIT);
      return value;
    } catch {
      this.deps.metrics.cache(L2_ERROR);
      return null;
    }
  }

  private l2Set(key: string, value: string): void {
    if (!this.deps.breakers.redis.allow()) return;
    this.deps.redis
      .next()
      .set(key, value, "EX", this.deps.ttlSec)
      .then(
        () => this.deps.breakers.redis.success(),
        () => this.deps.breakers.redis.failure(),
      );
  }

  /** The lock token when we got it, false when another holds it, null when Redis failed. */
  private async tryLock(key: string): Promise<string | false | null> {
    const token = randomBytes(9).toString("base64url");
    try {
      const ok = await this.deps.breakers.redis.run(() =>
        this.deps.redis
          .next()
          .set(this.deps.keys.fillLock(key), token, "PX", this.deps.fillLockMs, "NX"),
      );
      return ok === "OK" ? token : false;
    } catch {
      return null;
    }
  }

  private unlock(key: string, token: string): void {
    this.deps.redis
      .next()
      .eval(RELEASE_LOCK, 1, this.deps.keys.fillLock(key), token)
      .catch(() => {}); // it expires by itself
  }
}

function decodeOrNull(entry: string | null): TodoPage | null {
  return entry === null ? null : decodePageEntry(entry);
}
