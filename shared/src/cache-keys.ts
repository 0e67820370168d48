/**
 * The Redis key scheme every deployable agrees on. Every key that holds cached
 * bytes carries the generation, so a slow filler can never write stale bytes under
 * a newer generation. `prefix` isolates tests (and tenants) on one Redis.
 */
export interface CacheKeys {
  /** The published generation readers use. Only ever moves forward. */
  readonly generation: string;
  /** Allocator for new generation numbers (INCR). Ahead of `generation` while a refill runs. */
  readonly generationCounter: string;
  /** Pub/sub channel carrying each newly published generation number. */
  readonly invalidationChannel: string;
  page(generation: number, limit: number, cursor: string | null): string;
  item(generation: number, id: string): string;
  command(commandId: string): string;
  /** Short cross-process lock taken while one process fills `key` from Postgres. */
  fillLock(key: string): string;
}

export const DEFAULT_KEY_PREFIX = "todos";

export function cacheKeys(prefix: string = DEFAULT_KEY_PREFIX): CacheKeys {
  return Object.freeze({
    generation: `${prefix}:gen`,
    generationCounter: `${prefix}:gen:next`,
    invalidationChannel: `${prefix}:invalidate`,
    page: (generation: number, limit: number, cursor: string | null) =>
      `${prefix}:page:${generation}:${limit}:${cursor ?? "-"}`,
    item: (generation: number, id: string) => `${prefix}:item:${generation}:${id}`,
    command: (commandId: string) => `${prefix}:cmd:${commandId}`,
    fillLock: (key: string) => `${prefix}:lock:${key}`,
  });
}
