import { freshDatabase, freshKeyPrefix, testServices } from "@million-rps/local/testing";
import {
  allocateGeneration,
  buildEntry,
  cacheKeys,
  decodeCursor,
  decodeEntry,
  decodeHotEntries,
  encodePage,
  entryStamp,
  itemSubject,
  queryTodoPage,
  queryTodoStates,
  writeEntries,
} from "@million-rps/shared";
import { createLogger } from "@million-rps/shared/pino-logger";
import { seedTodos } from "@million-rps/shared/seed";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppliedChange } from "../src/apply";
import { ChangePublisher } from "../src/change-publisher";
import { createWorkerMetrics } from "../src/metrics";

// The worker reads again the cursor pages a reader cached that a change lands in
// found through the page index, so the readers holding them read them back from L2
// instead of querying Postgres. Everything else is left as it is.

const LIMIT = 10;
const keys = cacheKeys(freshKeyPrefix());
let pool: pg.Pool;
let redis: Redis;
/** Cursors of pages 2..6 of the walk of LIMIT (index 0 is page 2). */
const cursors: string[] = [];
/** The ids on each of those pages. */
const pageIds: string[][] = [];

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await freshDatabase(), max: 4 });
  redis = new Redis(testServices().redisUrl);
  await seedTodos(pool, LIMIT * 7);
  let cursor = (await queryTodoPage(pool, LIMIT, null)).next;
  for (let i = 0; i < 5 && cursor !== null; i++) {
    const page = await queryTodoPage(pool, LIMIT, decodeCursor(cursor));
    cursors.push(cursor);
    pageIds.push([...page.ids]);
    cursor = page.next;
  }
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await pool?.end();
});

/** What a read process does when it fills a cursor page: write it to L2, indexed. */
async function readerCaches(cursor: string): Promise<number> {
  const stamp = await allocateGeneration(redis, keys);
  const page = await queryTodoPage(pool, LIMIT, decodeCursor(cursor));
  const written = await encodePage(LIMIT, cursor, page, stamp);
  await writeEntries(redis, keys, [{ key: keys.page(LIMIT, cursor), ...written }], 60);
  return stamp;
}

async function l2(cursor: string) {
  const value = await redis.getBuffer(keys.page(LIMIT, cursor));
  return value === null ? null : decodeEntry(value);
}

/** An update as the worker's apply reports it, after changing the row. */
async function update(id: string, title: string): Promise<AppliedChange> {
  await pool.query("UPDATE todos SET title = $2, version = version + 1 WHERE id = $1", [id, title]);
  const [state] = await queryTodoStates(pool, [id]);
  const position = state?.position ?? null;
  return { id, position, existed: true, was: position };
}

/** A delete as the worker's apply reports it, after deleting the row. */
async function remove(id: string): Promise<AppliedChange> {
  const [state] = await queryTodoStates(pool, [id]);
  await pool.query("DELETE FROM todos WHERE id = $1", [id]);
  return { id, position: null, existed: true, was: state?.position ?? null };
}

function publisher(cachedPagesMax = 32, cachedPagesPushBytes = 0) {
  const metrics = createWorkerMetrics();
  const p = new ChangePublisher({
    pool,
    redis,
    keys,
    // Hot pages of another limit: this test is about cursor pages of LIMIT.
    hotPages: [{ limit: 100, pages: 1 }],
    ttlSec: 60,
    cachedPagesMax,
    cachedPagesPushBytes,
    log: createLogger("cached-pages-test", { level: "error", write: () => {} }),
    metrics,
  });
  return { p, metrics };
}

/** The keys and stamps of every push one publication sends, read as a reader would. */
async function pushedBy(publish: () => Promise<number>): Promise<Map<string, number>> {
  const sub = new Redis(testServices().redisUrl);
  const pushed = new Map<string, number>();
  try {
    let published: () => void = () => {};
    const changeSet = new Promise<void>((resolve) => {
      published = resolve;
    });
    sub.on("messageBuffer", (channel: Buffer, message: Buffer) => {
      if (channel.toString() === keys.invalidationChannel) return published();
      for (const e of decodeHotEntries(message) ?? []) pushed.set(e.key, entryStamp(e.value) ?? -1);
    });
    await sub.subscribe(keys.hotEntriesChannel, keys.invalidationChannel);
    await publish();
    await changeSet; // the push goes out before it, on the same connection
    return pushed;
  } finally {
    sub.disconnect();
  }
}

const counted = async (c: { get(): Promise<{ values: { value: number }[] }> }) =>
  (await c.get()).values.reduce((n, v) => n + v.value, 0);

describe("cursor pages a reader cached", () => {
  it("an update rewrites the one cached page it lands in, stamped with the publication, and nothing else", async () => {
    const held = [0, 1, 3].map((i) => cursors[i] as string); // pages 2, 3 and 5; not 4
    const stamps = new Map<string, number>();
    for (const c of held) stamps.set(c, await readerCaches(c));
    const { p, metrics } = publisher();

    const onPage3 = pageIds[1]?.[4] as string;
    const change = await update(onPage3, "changed on page 3");
    const generation = await p.publishOnce([change]);

    const page3 = await l2(cursors[1] as string);
    expect(page3?.stamp).toBe(generation);
    expect(page3?.identity.toString()).toContain("changed on page 3");
    expect(page3?.identity.toString()).toBe(
      (await queryTodoPage(pool, LIMIT, decodeCursor(cursors[1] as string))).json,
    );
    // The pages on either side keep their entries (and so their ETags).
    for (const c of [cursors[0], cursors[3]] as string[]) {
      expect((await l2(c))?.stamp).toBe(stamps.get(c));
    }
    expect(await counted(metrics.cachedPagesRead)).toBe(1);

    // An update on a page nobody cached writes nothing.
    const onPage4 = pageIds[2]?.[0] as string;
    await p.publishOnce([await update(onPage4, "changed on page 4")]);
    expect(await l2(cursors[2] as string)).toBeNull();
    expect(await counted(metrics.cachedPagesRead)).toBe(1);
  });

  it("a page whose entry expired is not written again, and leaves the index", async () => {
    const cursor = cursors[4] as string; // page 6
    await readerCaches(cursor);
    await redis.del(keys.page(LIMIT, cursor));
    const { p, metrics } = publisher();
    await p.publishOnce([await update(pageIds[4]?.[2] as string, "changed on page 6")]);
    expect(await l2(cursor)).toBeNull();
    expect(await redis.zscore(keys.pageIndex, `${LIMIT} ${cursor}`)).toBeNull();
    expect(await counted(metrics.cachedPagesRead)).toBe(0);
  });

  it("a rewritten page is pushed with its publication within CACHED_PAGES_PUSH_BYTES, and not past it", async () => {
    const cursor = cursors[2] as string; // page 4
    const key = keys.page(LIMIT, cursor);
    await readerCaches(cursor);
    const onPage4 = pageIds[2]?.[3] as string;

    const within = publisher(32, 256 * 1024);
    let generation = 0;
    const pushed = await pushedBy(async () => {
      generation = await within.p.publishOnce([await update(onPage4, "pushed on page 4")]);
      return generation;
    });
    expect(pushed.get(key)).toBe(generation);
    expect(pushed.get(keys.page(100, null))).toBe(generation); // the hot page, as always
    expect(await counted(within.metrics.cachedPagesPushed)).toBe(1);

    // A budget smaller than the page: written to L2 for its readers to read back, not pushed.
    const entryBytes = (await redis.getBuffer(key))?.length ?? 0;
    const past = publisher(32, entryBytes - 1);
    const notPushed = await pushedBy(async () => {
      generation = await past.p.publishOnce([await update(onPage4, "read back on page 4")]);
      return generation;
    });
    expect((await l2(cursor))?.stamp).toBe(generation);
    expect(notPushed.has(key)).toBe(false);
    expect(notPushed.get(keys.page(100, null))).toBe(generation);
    expect(await counted(past.metrics.cachedPagesPushed)).toBe(0);
    expect(await counted(past.metrics.cachedPagesRead)).toBe(1);
  });

  it("a changed todo a reader cached is pushed ahead of the cursor pages, within the same budget", async () => {
    const cursor = cursors[3] as string; // page 5
    const pageKey = keys.page(LIMIT, cursor);
    await readerCaches(cursor);
    const id = pageIds[3]?.[6] as string;
    const itemKey = keys.item(id);
    // What a read process does when it fills a todo: its entry in L2.
    const [state] = await queryTodoStates(pool, [id]);
    const json = state?.json ?? null;
    const filled = await buildEntry(
      await allocateGeneration(redis, keys),
      itemSubject(id, json),
      json ?? "",
    );
    await writeEntries(redis, keys, [{ key: itemKey, entry: filled }], 60);

    // Room for the todo but not for its page: the todo goes first.
    const todoBytes = 1024;
    const small = publisher(32, todoBytes);
    let generation = 0;
    const pushed = await pushedBy(async () => {
      generation = await small.p.publishOnce([await update(id, "pushed todo on page 5")]);
      return generation;
    });
    expect(pushed.get(itemKey)).toBe(generation);
    expect(pushed.has(pageKey)).toBe(false);
    expect(await counted(small.metrics.todoEntriesPushed)).toBe(1);
    expect(await counted(small.metrics.cachedPagesPushed)).toBe(0);
    const item = await redis.getBuffer(itemKey);
    expect(item === null ? null : decodeEntry(item)?.identity.toString()).toContain(
      "pushed todo on page 5",
    );

    // With room for both, both; with none, neither (they are read back from L2).
    const both = publisher(32, 256 * 1024);
    const all = await pushedBy(async () => both.p.publishOnce([await update(id, "both")]));
    expect(all.has(itemKey) && all.has(pageKey)).toBe(true);
    const none = publisher(32, 0);
    const neither = await pushedBy(async () => none.p.publishOnce([await update(id, "neither")]));
    expect(neither.has(itemKey) || neither.has(pageKey)).toBe(false);
    expect(await counted(none.metrics.todoEntriesRead)).toBe(1);
  });

  it("past CACHED_PAGES_MAX the rest are left to their readers, and counted", async () => {
    const a = cursors[0] as string;
    const b = cursors[3] as string;
    await readerCaches(a);
    const stampB = await readerCaches(b);
    const { p, metrics } = publisher(1);
    const generation = await p.publishOnce([
      await update(pageIds[0]?.[1] as string, "changed on page 2"),
      await update(pageIds[3]?.[1] as string, "changed on page 5"),
    ]);
    expect((await l2(a))?.stamp).toBe(generation);
    expect((await l2(b))?.stamp).toBe(stampB);
    expect(await counted(metrics.cachedPagesRead)).toBe(1);
    expect(await counted(metrics.cachedPagesLeft)).toBe(1);
  });
  it("a delete rewrites the cached page the todo was on, without it, and nothing else", async () => {
    // Last, and on page 6: the pages the other cases use keep their todos.
    const cursor = cursors[4] as string;
    await readerCaches(cursor);
    const stampBefore = await readerCaches(cursors[3] as string); // page 5, its neighbour
    const { p, metrics } = publisher();
    const gone = pageIds[4]?.[3] as string;
    const generation = await p.publishOnce([await remove(gone)]);

    const page6 = await l2(cursor);
    expect(page6?.stamp).toBe(generation);
    expect(page6?.identity.toString()).not.toContain(gone);
    expect(page6?.identity.toString()).toBe(
      (await queryTodoPage(pool, LIMIT, decodeCursor(cursor))).json,
    );
    expect((await l2(cursors[3] as string))?.stamp).toBe(stampBefore);
    expect(await counted(metrics.cachedPagesRead)).toBe(1);
  });
});
