import { type AddressInfo, createServer, type Socket } from "node:net";
import { freshDatabase, freshKeyPrefix, testServices } from "@million-rps/local/testing";
import { type CacheKeys, type ChangeSet, cacheKeys, decodeChangeSet } from "@million-rps/shared";
import { createLogger } from "@million-rps/shared/pino-logger";
import { seedTodos } from "@million-rps/shared/seed";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppliedChange } from "../src/apply";
import { ChangePublisher } from "../src/change-publisher";
import { ChangeRelay } from "../src/change-relay";
import { createWorkerMetrics } from "../src/metrics";

// One worker publishes for the fleet, whatever the number of workers: every
// worker's commits reach the readers, in at most one change set per interval
// between them, and when the publisher dies or cannot publish, another one
// publishes what was handed to it.

const log = createLogger("change-relay-test", { level: "error", write: () => {} });
let databaseUrl: string;
let pool: pg.Pool;
const opened: Redis[] = [];
const relays: ChangeRelay[] = [];

beforeAll(async () => {
  databaseUrl = await freshDatabase();
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  await seedTodos(pool, 50);
}, 60_000);

afterAll(async () => {
  await Promise.all(relays.map((r) => r.stop()));
  for (const r of opened) r.disconnect();
  await pool?.end();
});

function redis(): Redis {
  const r = new Redis(testServices().redisUrl, { maxRetriesPerRequest: 1 });
  r.on("error", () => {});
  opened.push(r);
  return r;
}

/** A worker's relay, with its own connection and publisher (over `db`, the shared pool by default). */
function worker(
  keys: CacheKeys,
  o: { minIntervalMs: number; leaseMs: number; db?: pg.Pool; maxHeldChanges?: number },
) {
  const connection = redis();
  const metrics = createWorkerMetrics();
  const relay = new ChangeRelay({
    redis: connection,
    keys,
    publisher: new ChangePublisher({
      pool: o.db ?? pool,
      redis: connection,
      keys,
      hotPages: [{ limit: 100, pages: 1 }],
      ttlSec: 60,
      cachedPagesMax: 16,
      cachedPagesPushBytes: 0,
      log,
      metrics,
    }),
    minIntervalMs: o.minIntervalMs,
    leaseMs: o.leaseMs,
    maxHeldChanges: o.maxHeldChanges,
    log,
    metrics,
  });
  relays.push(relay);
  relay.start();
  return { relay, connection, metrics };
}

/** Every change set published on `keys`, as readers receive them. */
async function listen(keys: CacheKeys): Promise<ChangeSet[]> {
  const sub = redis();
  const seen: ChangeSet[] = [];
  sub.on("message", (_channel: string, message: string) => {
    const set = decodeChangeSet(message);
    if (set !== null) seen.push(set);
  });
  await sub.subscribe(keys.invalidationChannel);
  return seen;
}

/** A create as apply reports it (nobody holds the new todo; it touches page 1). */
function created(id: string): AppliedChange {
  return { id, position: { micros: Date.now() * 1000, id }, existed: false, was: null };
}

const published = (sets: readonly ChangeSet[]) =>
  new Set(sets.flatMap((s) => s.changes.map((c) => c.id)));

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("one publisher for the fleet", () => {
  it("publishes two workers' commits in at most one change set per interval between them", async () => {
    const keys = cacheKeys(freshKeyPrefix());
    const sets = await listen(keys);
    const a = worker(keys, { minIntervalMs: 200, leaseMs: 1_000 });
    const b = worker(keys, { minIntervalMs: 200, leaseMs: 1_000 });
    await until("a publisher", () => a.relay.isPublisher || b.relay.isPublisher, 2_000);
    expect(a.relay.isPublisher && b.relay.isPublisher).toBe(false);
    const handed: string[] = [];
    const started = Date.now();
    // Both commit every 20 ms for 2 s: 200 hand-offs.
    for (let i = 0; i < 100; i++) {
      for (const [name, w] of [
        ["a", a],
        ["b", b],
      ] as const) {
        const id = `${name}-${i}`;
        handed.push(id);
        w.relay.publish([created(id)]);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await until("every change published", () => published(sets).size === handed.length, 5_000);
    const seconds = (Date.now() - started) / 1000;
    expect([...published(sets)].sort()).toEqual([...handed].sort());
    // Uncoordinated, each worker would publish once per interval: twice this.
    expect(sets.length).toBeLessThanOrEqual(Math.ceil(seconds / 0.2) + 1);
    const seqs = sets.map((s) => s.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(await a.relay.flush(2_000)).toBe(true);
    expect(await b.relay.flush(2_000)).toBe(true);
  }, 30_000);

  it("publishes, once the lease runs out, what a publisher that lost Redis was handed", async () => {
    const keys = cacheKeys(freshKeyPrefix());
    const sets = await listen(keys);
    const a = worker(keys, { minIntervalMs: 20, leaseMs: 600 });
    await until("a to publish", () => a.relay.isPublisher, 2_000);
    const b = worker(keys, { minIntervalMs: 20, leaseMs: 600 });
    b.relay.publish([created("before")]);
    await until("the first change", () => published(sets).has("before"), 3_000);
    expect(b.relay.isPublisher).toBe(false);
    // The publisher's process stops answering (as if killed): its lease is left to expire.
    a.connection.disconnect();
    const lost = Date.now();
    b.relay.publish([created("after")]);
    await until("the change after", () => published(sets).has("after"), 5_000);
    expect(b.relay.isPublisher).toBe(true);
    // Within the lease, and the quarter of it B waits between tries, plus the publication.
    expect(Date.now() - lost).toBeLessThan(600 + 150 + 1_000);
  }, 30_000);

  it("a publisher whose publication hangs gives the lease up, and another publishes", async () => {
    const keys = cacheKeys(freshKeyPrefix());
    const sets = await listen(keys);
    // A Postgres that accepts connections and never answers: the publication waits forever.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => {
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    const hung = new pg.Pool({ connectionString: `postgres://x@127.0.0.1:${port}/x` });
    hung.on("error", () => {});
    const a = worker(keys, { minIntervalMs: 20, leaseMs: 200, db: hung });
    await until("a to publish", () => a.relay.isPublisher, 2_000);
    const b = worker(keys, { minIntervalMs: 20, leaseMs: 200 });
    b.relay.publish([created("behind-a-hung-one")]);
    // Hung after five lease lengths (1 s); B takes the lease at its next try.
    await until("the change", () => published(sets).has("behind-a-hung-one"), 4_000);
    expect(a.relay.isPublisher).toBe(false);
    expect(b.relay.isPublisher).toBe(true);
    // A does not take the lease back while its publication hangs.
    await new Promise((r) => setTimeout(r, 600));
    expect(a.relay.isPublisher).toBe(false);
    for (const socket of sockets) socket.destroy();
    silent.close();
  }, 30_000);

  it("when the publisher cannot publish, the next one publishes what it read and kept", async () => {
    const keys = cacheKeys(freshKeyPrefix());
    const sets = await listen(keys);
    // A publisher whose Postgres is gone: each publication fails, the entries stay.
    const gone = new pg.Pool({
      connectionString: databaseUrl.replace(/:\d+\//, ":1/"),
      connectionTimeoutMillis: 200,
    });
    gone.on("error", () => {});
    const a = worker(keys, { minIntervalMs: 20, leaseMs: 600, db: gone });
    await until("a to publish", () => a.relay.isPublisher, 2_000);
    const b = worker(keys, { minIntervalMs: 20, leaseMs: 600 });
    b.relay.publish([created("kept-1"), created("kept-2")]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(sets).toEqual([]);
    // Stopping gives the lease up: B takes it at its next try and publishes both.
    await a.relay.stop();
    await until("the kept changes", () => published(sets).size === 2, 3_000);
    expect([...published(sets)].sort()).toEqual(["kept-1", "kept-2"]);
    expect(b.relay.isPublisher).toBe(true);
    await gone.end();
  }, 30_000);

  it("a hand-off stream past its bound while nobody publishes is replaced by one reset", async () => {
    const keys = cacheKeys(freshKeyPrefix());
    const sets = await listen(keys);
    const r = redis();
    // Another worker holds the lease and publishes nothing (its publications fail).
    await r.set(keys.publisherLease, "a-stuck-publisher", "PX", 60_000);
    const a = worker(keys, { minIntervalMs: 20, leaseMs: 400, maxHeldChanges: 5 });
    for (const batch of [
      ["o-1", "o-2"],
      ["o-3", "o-4"],
      ["o-5", "o-6"],
    ]) {
      a.relay.publish(batch.map(created));
      expect(await a.relay.flush(2_000)).toBe(true);
    }
    // The third hand-off took it to 6 changes: the stream is one reset, held none.
    const held = await r.xrange(keys.changeHandoff, "-", "+");
    expect(held.map(([, fields]) => fields)).toEqual([["c", "[]", "r", "1"]]);
    expect(await r.get(keys.handoffHeld)).toBe("0");
    expect((await a.metrics.handoffOverflows.get()).values[0]?.value).toBe(1);
    a.relay.publish([created("after-the-overflow")]);
    expect(await a.relay.flush(2_000)).toBe(true);
    expect(await r.get(keys.handoffHeld)).toBe("1");
    // The stuck publisher goes: A publishes the reset, which stands for o-1..o-6.
    await r.del(keys.publisherLease);
    await until("a publication", () => sets.length > 0, 3_000);
    expect(await a.relay.flush(2_000)).toBe(true);
    expect(sets.some((s) => s.reset)).toBe(true);
    expect([...published(sets)]).toEqual(["after-the-overflow"]);
    // Nothing left unpublished: the count is back to none.
    expect(await r.get(keys.handoffHeld)).toBe("0");
    expect(await r.xlen(keys.changeHandoff)).toBe(1);
  }, 30_000);
});
