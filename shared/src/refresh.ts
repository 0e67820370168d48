import type { Redis } from "ioredis";
import type { Pool, PoolClient } from "pg";
import type { CacheKeys } from "./cache-keys";
import { decodeCursor } from "./cursor";
import { allocateGeneration, publishGeneration } from "./generation";
import { encodePageEntry, queryTodoPage, type TodoPage } from "./read-model";

/** A first page refilled on every new generation: `limit`, and how many pages deep. */
export interface HotPage {
  limit: number;
  pages: number;
}

/** The page every client reads first (`GET /todos`, limit 100): what a refresh refills by default. */
export const DEFAULT_HOT_PAGES: readonly HotPage[] = [{ limit: 100, pages: 1 }];

export interface RefreshResult {
  generation: number;
  /** False when a newer generation was published meanwhile (ours is then simply unused). */
  published: boolean;
  /** Pages written under the new generation. */
  pages: number;
}

/**
 * Moves readers to a new generation after the database changed: allocate N, write
 * the hot pages under N into Redis, and only then publish N. A reader can therefore
 * never see N before its hot pages are there. Allocating before reading Postgres
 * makes it safe under concurrency: whichever generation ends up published was read
 * after every commit that asked for a move.
 */
export async function refreshGeneration(opts: {
  redis: Redis;
  db: Pool | PoolClient;
  keys: CacheKeys;
  hotPages: readonly HotPage[];
  ttlSec: number;
}): Promise<RefreshResult> {
  const { redis, keys, ttlSec } = opts;
  const generation = await allocateGeneration(redis, keys);
  const pages = await readHotPages(opts.db, opts.hotPages);
  if (pages.length > 0) {
    const write = redis.multi();
    for (const { limit, cursor, page } of pages) {
      write.set(keys.page(generation, limit, cursor), encodePageEntry(page), "EX", ttlSec);
    }
    const results = await write.exec();
    const failed = results?.find(([err]) => err !== null)?.[0];
    if (results === null || failed) throw failed ?? new Error("Redis discarded the page writes");
  }
  const published = await publishGeneration(redis, keys, generation);
  return { generation, published, pages: pages.length };
}

async function readHotPages(
  db: Pool | PoolClient,
  hotPages: readonly HotPage[],
): Promise<{ limit: number; cursor: string | null; page: TodoPage }[]> {
  const out: { limit: number; cursor: string | null; page: TodoPage }[] = [];
  for (const { limit, pages } of hotPages) {
    let cursor: string | null = null;
    for (let i = 0; i < pages; i++) {
      const page = await queryTodoPage(db, limit, cursor === null ? null : decodeCursor(cursor));
      out.push({ limit, cursor, page });
      if (page.next === null) break;
      cursor = page.next;
    }
  }
  return out;
}
