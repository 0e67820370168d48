import { setTimeout as sleep } from "node:timers/promises";
import {
  buildEntry,
  type CacheEntry,
  type CacheKeys,
  DependencyError,
  decodeCursor,
  decodeEntry,
  type EntryRead,
  encodeEntry,
  encodePage,
  HttpError,
  itemSubject,
  type PageIndexEntry,
  queryTodoJson,
  queryTodoPage,
  readEntry,
  releaseFillLock,
  tryFillLock,
  writeEntry,
} from "@million-rps/shared";
import type { Pool } from "pg";
import type { CircuitBreaker } from "./circuit-breaker";
import {
  type FleetMetrics,
  L2_ERROR,
  L2_HIT,
  L2_MISS,
  L2_STALE,
  PG_ERROR,
  PG_HIT,
  PG_NOT_FOUND,
} from "./fleet-metrics";
import type { PageQuery } from "./page-query";
import type { RedisClients } from "./redis-clients";
import { SingleFlight } from "./single-flight";

export interface FillDeps {
  redis: RedisClients;
  db: Pool;
  keys: CacheKeys;
  ttlSec: number;
  fillLockMs: number;
  breakers: { redis: CircuitBreaker; postgres: CircuitBreaker };
  metrics: FleetMetrics;
  /** A generation whose commits are all done, for data read while Redis cannot be asked. */
  knownGeneration: () => number;
}

/** Postgres refused the query's values (SQLSTATE class 22): the request's fault, not an outage. */
const UNREPRESENTABLE = new HttpError(
  400,
  "bad_request",
  "the request names a value the database cannot represent",
);

/**
 * Brings in an answer at least as new as `want` (a generation): from L2 when its
 * entry is fresh (checked in Redis against what changed since its stamp), else
 * from Postgres, behind a short Redis lock so one process per key queries it while
 * the others wait for its entry. The process that queries encodes the entry
 * (gzip, brotli, ETag) and writes it to L2 for the fleet. One flight per key in
 * this process. Redis failures fall through to Postgres (no L2 write); Postgres
 * failures return L2's stale bytes when there are some, else reject with
 * DependencyError for the caller's stale-if-error.
 */
export class Filler {
  private readonly flights = new SingleFlight<string, CacheEntry>();

  constructor(private readonly deps: FillDeps) {}

  get inflightCount(): number {
    return this.flights.size;
  }

  page(query: PageQuery, want: number): Promise<CacheEntry> {
    const key = this.deps.keys.page(query.limit, query.cursor);
    return this.once(key, want, async (stamp) => {
      const cursor = query.cursor === null ? null : decodeCursor(query.cursor);
      const page = await this.postgres((db) => queryTodoPage(db, query.limit, cursor));
      this.deps.metrics.cache(PG_HIT);
      return encodePage(query.limit, query.cursor, page, stamp);
    });
  }

  /** A todo's entry; `subject.found` false remembers that it does not exist. */
  item(id: string, want: number): Promise<CacheEntry> {
    return this.once(this.deps.keys.item(id), want, async (stamp) => {
      const json = await this.postgres((db) => queryTodoJson(db, id));
      this.deps.metrics.cache(json === null ? PG_NOT_FOUND : PG_HIT);
      return { entry: await buildEntry(stamp, itemSubject(id, json), json ?? "") };
    });
  }

  private once(
    key: string,
    want: number,
    load: (stamp: number) => Promise<Loaded>,
  ): Promise<CacheEntry> {
    return this.flights.run(key, () => {
      const started = performance.now();
      return this.fill(key, want, load).finally(() =>
        this.deps.metrics.fillSeconds.observe((performance.now() - started) / 1000),
      );
    });
  }

  private async fill(
    key: string,
    want: number,
    load: (stamp: number) => Promise<Loaded>,
  ): Promise<CacheEntry> {
    const read = await this.l2Read(key);
    const found = usable(read, want);
    if (found !== null) return found;
    // Data read from now on reflects every commit the counter counted, and the change
    // we were told of (published after its commit): either bound is a valid stamp.
    const stamp = Math.max(read?.generation ?? this.deps.knownGeneration(), want);
    let lock = read === null ? null : await this.lock(key);
    if (lock === false) {
      // Another process is filling this key: wait for its entry rather than query too.
      this.deps.metrics.fillLockWaits.inc();
      const deadline = Date.now() + this.deps.fillLockMs;
      for (let wait = 5; Date.now() < deadline && lock === false; wait = Math.min(wait * 2, 50)) {
        await sleep(wait);
        const filled = usable(await this.l2Read(key), want);
        if (filled !== null) return filled;
        // Its entry came in older than we need (it was filling for an earlier change) and
        // the lock is free again: fill it ourselves now rather than wait out the deadline.
        lock = await this.lock(key);
      }
    }
    if (typeof lock === "string") {
      // Whoever held the lock may have written its entry and let go between our read
      // and our lock: look once more before querying Postgres a second time.
      const late = usable(await this.l2Read(key, true), want);
      if (late !== null) {
        this.unlock(key, lock);
        return late;
      }
    }
    try {
      const { entry, index } = await load(stamp);
      // Written before the lock is released: a process that finds the lock free must
      // also find the entry, or it would query Postgres a second time.
      if (read !== null) await this.l2Write(key, entry, index);
      return entry;
    } catch (err) {
      // Postgres is away: older bytes from L2 beat no answer (the caller still wants newer).
      const stale = read === null || err instanceof HttpError ? null : await this.l2Older(key);
      if (stale !== null) {
        this.deps.metrics.staleServed.inc({ reason: "error" });
        return stale;
      }
      throw err;
    } finally {
      if (typeof lock === "string") this.unlock(key, lock);
    }
  }

  private async postgres<T>(query: (db: Pool) => Promise<T>): Promise<T> {
    try {
      return await this.deps.breakers.postgres.run(() => query(this.deps.db), isOutage);
    } catch (err) {
      if (!isOutage(err)) throw UNREPRESENTABLE;
      this.deps.metrics.cache(PG_ERROR);
      throw new DependencyError("postgres", "Postgres is unavailable", { cause: err });
    }
  }

  /**
   * null on any Redis failure (the caller then goes to Postgres and writes nothing).
   * `recheck`: a second look for the same lookup, not counted as another (its bytes are).
   */
  private async l2Read(key: string, recheck = false): Promise<EntryRead | null> {
    try {
      const read = await this.deps.breakers.redis.run(() =>
        readEntry(this.deps.redis.next(), this.deps.keys, key),
      );
      if (!recheck) {
        this.deps.metrics.cache(
          read.state === "fresh" ? L2_HIT : read.state === "stale" ? L2_STALE : L2_MISS,
        );
      }
      if (read.value !== null) this.deps.metrics.l2Bytes.inc({}, read.value.length);
      return read;
    } catch {
      this.deps.metrics.cache(L2_ERROR);
      return null;
    }
  }

  /** Whatever L2 holds for `key`, however old; null when nothing or Redis fails. */
  private async l2Older(key: string): Promise<CacheEntry | null> {
    try {
      const value = await this.deps.redis.next().getBuffer(key);
      return value === null ? null : decodeEntry(value);
    } catch {
      return null;
    }
  }

  /** Never rejects: an entry that cannot be written is read from Postgres again later. */
  private async l2Write(key: string, entry: CacheEntry, index?: PageIndexEntry): Promise<void> {
    if (!this.deps.breakers.redis.allow()) return;
    await writeEntry(this.deps.redis.next(), this.deps.keys, {
      key,
      stamp: entry.stamp,
      value: encodeEntry(entry),
      ttlSec: this.deps.ttlSec,
      ...(index !== undefined && { index }),
    }).then(
      () => this.deps.breakers.redis.success(),
      () => this.deps.breakers.redis.failure(),
    );
  }

  /** The lock token when we got it, false when another holds it, null when Redis failed. */
  private async lock(key: string): Promise<string | false | null> {
    try {
      const token = await this.deps.breakers.redis.run(() =>
        tryFillLock(this.deps.redis.next(), this.deps.keys, key, this.deps.fillLockMs),
      );
      return token ?? false;
    } catch {
      return null;
    }
  }

  private unlock(key: string, token: string): void {
    releaseFillLock(this.deps.redis.next(), this.deps.keys, key, token).catch(() => {}); // it expires by itself
  }
}

/** What a fill read from Postgres: the entry, and a cursor page's place in the page index. */
interface Loaded {
  entry: CacheEntry;
  index?: PageIndexEntry | undefined;
}

/** A fresh L2 entry at least as new as `want`, decoded; else null. */
function usable(read: EntryRead | null, want: number): CacheEntry | null {
  if (read === null || read.state !== "fresh" || read.value === null) return null;
  const entry = decodeEntry(read.value);
  return entry !== null && entry.stamp >= want ? entry : null;
}

/** A data exception (class 22, e.g. a value out of range) means Postgres answered: not an outage. */
function isOutage(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return !(typeof code === "string" && code.startsWith("22"));
}
