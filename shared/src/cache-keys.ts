/**
 * The Redis key scheme every deployable agrees on (see cache-scripts.ts for what
 * each holds and who writes it). Cached answers are keyed by what they answer
 * (the canonical page, the todo id), not by a generation: a write replaces only
 * the answers it changes. `prefix` isolates tests (and tenants) on one Redis.
 */
export interface CacheKeys {
  /**
   * The generation counter: INCR after each committed batch, before the batch's
   * changes are read back. Every cached entry is stamped with the value read
   * before its data was, so a slow filler can never pass off old bytes as new.
   */
  readonly generation: string;
  /** Counter of published change sets: gap-free, so a reader can tell it missed one. */
  readonly changeSeq: string;
  /** Stream of the last change sets (id `<seq>-0`), read back by a reader that missed some. */
  readonly changeLog: string;
  /**
   * Stream of what the workers' commits changed, handed to the one worker that
   * publishes for the fleet (worker/src/change-relay.ts), trimmed as it publishes.
   */
  readonly changeHandoff: string;
  /** Id of the last `changeHandoff` entry published. */
  readonly handoffCursor: string;
  /** How many changes `changeHandoff` holds after its cursor: what bounds it. */
  readonly handoffHeld: string;
  /** Which worker publishes (its random id), with a TTL it renews. */
  readonly publisherLease: string;
  /** Pub/sub channel carrying each change set as it is published. */
  readonly invalidationChannel: string;
  /**
   * Pub/sub channel carrying, just before each change set, the hot pages the worker
   * wrote for it (hot-entries.ts): readers holding them swap them in without a read.
   */
  readonly hotEntriesChannel: string;
  /** Random token set once per Redis dataset: a new one means Redis lost everything. */
  readonly epoch: string;
  /** Sorted set: todo id → generation of its last change. */
  readonly versions: string;
  /** Sorted set: todo id → its position (created_at micros) as of its last change. */
  readonly positions: string;
  /** Entries stamped below this generation are stale whatever they hold. */
  readonly floor: string;
  /**
   * Sorted set of the cursor pages L2 holds, `<limit> <cursor>` → the micros of the
   * page's last todo: where the worker finds the cached pages a change lands in (page-index.ts).
   */
  readonly pageIndex: string;
  page(limit: number, cursor: string | null): string;
  item(id: string): string;
  command(commandId: string): string;
  /** Short cross-process lock taken while one process fills `key` from Postgres. */
  fillLock(key: string): string;
}

export const DEFAULT_KEY_PREFIX = "todos";

export function cacheKeys(prefix: string = DEFAULT_KEY_PREFIX): CacheKeys {
  return Object.freeze({
    generation: `${prefix}:gen`,
    changeSeq: `${prefix}:changes:seq`,
    changeLog: `${prefix}:changes`,
    changeHandoff: `${prefix}:changes:handoff`,
    handoffCursor: `${prefix}:changes:handoff:published`,
    handoffHeld: `${prefix}:changes:handoff:held`,
    publisherLease: `${prefix}:publisher`,
    invalidationChannel: `${prefix}:invalidate`,
    hotEntriesChannel: `${prefix}:hot-entries`,
    epoch: `${prefix}:epoch`,
    versions: `${prefix}:versions`,
    positions: `${prefix}:positions`,
    floor: `${prefix}:floor`,
    pageIndex: `${prefix}:page-index`,
    page: (limit: number, cursor: string | null) => `${prefix}:page:${limit}:${cursor ?? "-"}`,
    item: (id: string) => `${prefix}:item:${id}`,
    command: (commandId: string) => `${prefix}:cmd:${commandId}`,
    fillLock: (key: string) => `${prefix}:lock:${key}`,
  });
}
