import { freshKeyPrefix, testServices, waitUntil } from "@million-rps/local/testing";
import {
  allocateGeneration,
  type CacheKeys,
  type ChangeSet,
  cacheKeys,
  decodeHotEntries,
  publishChanges,
  pushHotEntries,
} from "@million-rps/shared";
import { createLogger } from "@million-rps/shared/pino-logger";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { ChangeFeed } from "../src/change-feed";
import { RedisClients } from "../src/redis-clients";

const log = createLogger("test", { level: "error" });

interface Harness {
  feed: ChangeFeed;
  clients: RedisClients;
  keys: CacheKeys;
  applied: ChangeSet[];
  lost: { generation: number; lostData: boolean }[];
  /** What reached the reader, in order: a push of hot pages, or a change set's seq. */
  arrivals: (Buffer | number)[];
}

const open: Harness[] = [];
const redis = new Redis(testServices().redisUrl);

afterEach(() => {
  for (const h of open.splice(0)) {
    h.feed.stop();
    h.clients.close();
  }
});

async function harness(): Promise<Harness> {
  const keys = cacheKeys(freshKeyPrefix());
  const clients = new RedisClients(
    {
      redisUrl: testServices().redisUrl,
      redisPassword: undefined,
      redisPoolSize: 1,
      redisTimeoutMs: 500,
    },
    () => {},
  );
  const h: Harness = {
    keys,
    clients,
    applied: [],
    lost: [],
    arrivals: [],
    feed: undefined as unknown as ChangeFeed,
  };
  h.feed = new ChangeFeed({
    clients,
    keys,
    pollMs: 60_000, // polls only when a test asks
    log,
    onChangeSet: (cs) => {
      h.applied.push(cs);
      h.arrivals.push(cs.seq);
    },
    onHotEntries: (message) => h.arrivals.push(message),
    onLost: (generation, lostData) => h.lost.push({ generation, lostData }),
  });
  open.push(h);
  await clients.ready(2_000);
  await h.feed.start();
  // Subscribed: the SUBSCRIBE reply has arrived once a PUBLISH counts us.
  await waitUntil(
    "the subscription",
    async () => Number(await redis.publish(keys.invalidationChannel, "x")) > 0,
  );
  return h;
}

async function publish(keys: CacheKeys, id: string): Promise<number> {
  const generation = await allocateGeneration(redis, keys);
  return publishChanges(redis, keys, {
    generation,
    reset: false,
    changes: [{ id, position: { micros: 1_000 + generation, id } }],
  });
}

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

describe("change feed", () => {
  // Regression (issue 13): a poll result read before a pub/sub message could be applied
  // after it and move the process back a generation.
  it("applies each change set once, in order, and never goes back to an older one", async () => {
    const h = await harness();
    for (let i = 1; i <= 3; i++) await publish(h.keys, ID(i));
    await waitUntil("three change sets", () => h.applied.length === 3);
    expect(h.applied.map((cs) => cs.seq)).toEqual([1, 2, 3]);
    // A stale copy of change set 2 (a replay, or a poll racing the channel): ignored.
    const [, second] = (await redis.xrange(h.keys.changeLog, "-", "+")).map(([, f]) => f[1]);
    await redis.publish(h.keys.invalidationChannel, second as string);
    await h.feed.poll();
    expect(h.feed.seq).toBe(3);
    expect(h.applied).toHaveLength(3);
    expect(h.lost).toEqual([]);
  });

  it("hands on a push of hot pages, as bytes, before the change set published after it", async () => {
    const h = await harness();
    const value = Buffer.from([7, 0, 255, 10, 13, 0xc3]); // any bytes: not text
    await pushHotEntries(redis, h.keys, [{ key: h.keys.page(100, null), value }]);
    const seq = await publish(h.keys, ID(1));
    await waitUntil("the push and the change set", () => h.arrivals.length === 2);
    const [push, change] = h.arrivals;
    expect(decodeHotEntries(push as Buffer)).toEqual([{ key: h.keys.page(100, null), value }]);
    expect(change).toBe(seq);
  });

  it("fills a gap from the change log when messages were missed", async () => {
    const h = await harness();
    await publish(h.keys, ID(1));
    await waitUntil("the first change set", () => h.applied.length === 1);
    await h.clients.subscriber.unsubscribe(h.keys.invalidationChannel);
    await publish(h.keys, ID(2));
    await publish(h.keys, ID(3));
    await h.clients.subscriber.subscribe(h.keys.invalidationChannel);
    await publish(h.keys, ID(4)); // arrives with seq 4 while 2 and 3 were never seen
    await waitUntil("all four change sets", () => h.applied.length === 4);
    expect(h.applied.map((cs) => cs.changes[0]?.id)).toEqual([ID(1), ID(2), ID(3), ID(4)]);
    expect(h.lost).toEqual([]);
  });

  it("the poll finds a gap even when no later message comes", async () => {
    const h = await harness();
    await h.clients.subscriber.unsubscribe(h.keys.invalidationChannel);
    await publish(h.keys, ID(1));
    await h.feed.poll();
    expect(h.applied.map((cs) => cs.seq)).toEqual([1]);
  });

  it("reports a loss when the log no longer reaches back, and goes on from there", async () => {
    const h = await harness();
    await h.clients.subscriber.unsubscribe(h.keys.invalidationChannel);
    await publish(h.keys, ID(1));
    await publish(h.keys, ID(2));
    await redis.xtrim(h.keys.changeLog, "MAXLEN", 1); // only seq 2 is left
    await h.feed.poll();
    expect(h.lost).toEqual([{ generation: expect.any(Number), lostData: false }]);
    expect(h.feed.seq).toBe(2);
    await h.clients.subscriber.subscribe(h.keys.invalidationChannel);
    await publish(h.keys, ID(3));
    await waitUntil("the next change set", () => h.applied.some((cs) => cs.seq === 3));
  });

  it("a new epoch (Redis lost its data) is a loss of everything held", async () => {
    const h = await harness();
    await publish(h.keys, ID(1));
    await waitUntil("the first change set", () => h.applied.length === 1);
    for (const key of [h.keys.epoch, h.keys.changeSeq, h.keys.changeLog, h.keys.generation]) {
      await redis.del(key);
    }
    await publish(h.keys, ID(2)); // numbering restarts at 1 under a new epoch
    await waitUntil("the loss", () => h.lost.length === 1);
    expect(h.lost[0]?.lostData).toBe(true);
    expect(h.applied.at(-1)?.changes[0]?.id).toBe(ID(2));
    expect(h.feed.seq).toBe(1);
  });
});
