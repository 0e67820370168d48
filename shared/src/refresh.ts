import type { Redis } from "ioredis";
import type { Pool, PoolClient } from "pg";
import type { CacheKeys } from "./cache-keys";
import { allocateGeneration, publishGeneration } from "./generation";
import { encodePageEntry, queryTodoPage } from "./read-model";

export interface RefreshResult {
  generation: number;
  /** False when a newer generation was published meanwhile (ours is then simply unused). */
  published: boolean;
}

/**
 * Moves readers to a new generation after the database changed: allocate N, write
 * the hot first pages under N into Redis, and only then publish N. A reader can
 * therefore never see N before its hot pages are there.
 */
export async function refreshGeneration(opts: {
  redis: Redis;
  db: Pool | PoolClient;
  keys: CacheKeys;
  hotLimits: readonly number[];
  ttlSec: number;
}): Promise<RefreshResult> {
  const { redis, db, keys, ttlSec } = opts;
  const generation = await allocateGeneration(redis, keys);
  const pages = await Promise.all(opts.hotLimits.map((limit) => queryTodoPage(db, limit, null)));
  if (pages.length > 0) {
    const multi = redis.multi();
    opts.hotLimits.forEach((limit, i) => {
      const page = pages[i];
      if (page !== undefined)
        multi.set(keys.page(generation, limit, null), encodePageEntry(page), "EX", ttlSec);
    });
    await multi.exec();
  }
  const published = await publishGeneration(redis, keys, generation);
  return { generation, published };
}
