import type { Redis } from "ioredis";
import type { CacheKeys } from "./cache-keys";

/**
 * Allocates a new generation number, always above the published one (even if the
 * counter was lost, e.g. Redis restarted without persistence).
 */
const ALLOCATE = `
local n = redis.call('INCR', KEYS[1])
local p = tonumber(redis.call('GET', KEYS[2]) or '0')
if n <= p then
  n = p + 1
  redis.call('SET', KEYS[1], n)
end
return n`;

/**
 * Publishes `gen` only if it is newer than the published one, then announces it.
 * Monotonic: two workers finishing out of order can never move readers backwards.
 */
const PUBLISH = `
local p = tonumber(redis.call('GET', KEYS[1]) or '0')
local g = tonumber(ARGV[1])
if g > p then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('PUBLISH', KEYS[2], ARGV[1])
  return 1
end
return 0`;

export async function allocateGeneration(redis: Redis, keys: CacheKeys): Promise<number> {
  const n = await redis.eval(ALLOCATE, 2, keys.generationCounter, keys.generation);
  return Number(n);
}

/** Returns true when `generation` became the published one. */
export async function publishGeneration(
  redis: Redis,
  keys: CacheKeys,
  generation: number,
): Promise<boolean> {
  const r = await redis.eval(
    PUBLISH,
    2,
    keys.generation,
    keys.invalidationChannel,
    String(generation),
  );
  return Number(r) === 1;
}

export async function readGeneration(redis: Redis, keys: CacheKeys): Promise<number> {
  const v = await redis.get(keys.generation);
  const n = v === null ? 0 : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}
