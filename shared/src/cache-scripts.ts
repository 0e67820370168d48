import { createHash, randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { CacheKeys } from "./cache-keys";
import { encodeChangeBody, type TodoChange } from "./change-set";
import { PAGE_INDEX_MAX, type PageIndexEntry } from "./page-index";

/**
 * The cache's Redis protocol, as Lua scripts (each runs atomically). Who writes what:
 *
 * - `generation` (INCR): the worker, after each commit, before it reads the batch's
 *   changes back. A reader stamps its fill with the value it read before its data.
 * - `versions` / `positions`: the publish script, for every todo a change set
 *   lists. They let any reader check an L2 entry without knowing what happened
 *   since it was written: an entry is stale when one of its ids changed above its
 *   stamp, or (pages) a todo changed above its stamp now sits in its range.
 * - `floor`: raised by a reset, and when `versions` is trimmed (what was trimmed
 *   can no longer be checked, so everything stamped below it is stale).
 * - `changeSeq`, `changeLog`, the channel: one publication per change set, in
 *   order, gap-free; a reader that misses messages reads the log back.
 * - `pageIndex`: the write-entry script, for every cursor page it writes (a reader's
 *   fill or the worker's rewrite); the worker reads it to find the cached pages a
 *   change lands in, and drops members whose entry has gone (page-index.ts).
 */
export class LuaScript {
  private readonly sha: string;
  constructor(
    readonly name: string,
    private readonly source: string,
    private readonly keys: number,
  ) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  run(redis: Redis, args: readonly (string | number | Buffer)[]): Promise<unknown> {
    return this.call(redis, [this.keys, ...args]);
  }

  /** For a script whose key count varies: all of `keys` are KEYS. */
  runWithKeys(redis: Redis, keys: readonly string[]): Promise<unknown> {
    return this.call(redis, [keys.length, ...keys]);
  }

  private async call(
    redis: Redis,
    args: readonly [number, ...(string | number | Buffer)[]],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, ...args);
    } catch (err) {
      if (!String((err as Error).message).startsWith("NOSCRIPT")) throw err;
      return redis.eval(this.source, ...args);
    }
  }

  /** Same, with bulk replies as Buffers (entries hold compressed bytes). */
  async runBuffer(redis: Redis, args: readonly (string | number | Buffer)[]): Promise<unknown> {
    try {
      return await redis.callBuffer("EVALSHA", [this.sha, this.keys, ...args]);
    } catch (err) {
      if (!String((err as Error).message).startsWith("NOSCRIPT")) throw err;
      return redis.callBuffer("EVAL", [this.source, this.keys, ...args]);
    }
  }
}

/** Checks whether any listed id changed above `stamp`; ZMSCORE in chunks (Lua's unpack has a limit). */
const CHANGED_ABOVE = `
local function changed_above(versions, ids, stamp)
  for i = 1, #ids, 400 do
    local scores = redis.call('ZMSCORE', versions, unpack(ids, i, math.min(i + 399, #ids)))
    for _, s in ipairs(scores) do
      if s and tonumber(s) > stamp then return true end
    end
  end
  return false
end`;

/**
 * KEYS: entry, versions, positions, floor, generation. Returns {state, entry, generation}:
 * state 0 missing, 1 fresh, 2 stale; the bytes only when fresh (a stale page is ~25 KB
 * nobody reading for a refresh needs: readers take older bytes with a plain GET).
 */
const READ_ENTRY = new LuaScript(
  "read-entry",
  `${CHANGED_ABOVE}
local gen = tonumber(redis.call('GET', KEYS[5]) or '0')
local v = redis.call('GET', KEYS[1])
if not v then return {0, false, gen} end
local nl1 = string.find(v, '\\n', 1, true)
local nl2 = nl1 and string.find(v, '\\n', nl1 + 1, true)
if not nl2 then return {2, false, gen} end
local stamp = tonumber(string.sub(v, 1, nl1 - 1))
if not stamp or stamp < tonumber(redis.call('GET', KEYS[4]) or '0') then return {2, false, gen} end
local ok, h = pcall(cjson.decode, string.sub(v, nl1 + 1, nl2 - 1))
if not ok or type(h.ids) ~= 'table' then return {2, false, gen} end
if changed_above(KEYS[2], h.ids, stamp) then return {2, false, gen} end
if h.k == 'p' then
  local lo = '-inf'
  local hi = '+inf'
  if type(h.lo) == 'table' then lo = h.lo[1] end
  if type(h.hi) == 'table' then hi = h.hi[1] end
  local moved = redis.call('ZRANGEBYSCORE', KEYS[3], lo, hi)
  if #moved > 0 and changed_above(KEYS[2], moved, stamp) then return {2, false, gen} end
end
return {1, v, gen}`,
  5,
);

/**
 * KEYS: entry, page index. ARGV: stamp, value, ttl seconds, "xx" (only replace an
 * entry that is there), index member ("" for an entry the index does not hold),
 * its score, most members the index keeps. Writes unless the stored entry's stamp
 * is as new, and indexes what it writes; a cursor page refused for being gone
 * leaves the index too.
 */
const WRITE_ENTRY = new LuaScript(
  "write-entry",
  `
local head = redis.call('GETRANGE', KEYS[1], 0, 24)
if head == '' and ARGV[4] == 'xx' then
  if ARGV[5] ~= '' then redis.call('ZREM', KEYS[2], ARGV[5]) end
  return 0
end
if head ~= '' then
  local s = tonumber(string.match(head, '^(%d+)\\n'))
  if s and s >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
  if redis.call('ZCARD', KEYS[2]) > tonumber(ARGV[7]) then redis.call('ZPOPMIN', KEYS[2]) end
end
return 1`,
  2,
);

/**
 * KEYS: page index. ARGV: most pages per position, then positions (micros). Returns,
 * per position, the members whose low end is at or below it, nearest first.
 */
const FIND_INDEXED_PAGES = new LuaScript(
  "find-indexed-pages",
  `
local out = {}
local n = tonumber(ARGV[1])
for i = 2, #ARGV do
  out[i - 1] = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[i], '-inf', 'LIMIT', 0, n)
end
return out`,
  1,
);

/**
 * KEYS: versions, positions, floor, changeSeq, changeLog, channel, epoch.
 * ARGV: generation, reset (0/1), max versions kept, log length, epoch candidate,
 * message body (which lists the changes: one argument, not two per change). Returns
 * the new seq.
 */
const PUBLISH_CHANGES = new LuaScript(
  "publish-changes",
  `
local g = tonumber(ARGV[1])
local epoch = redis.call('GET', KEYS[7])
if not epoch then epoch = ARGV[5]; redis.call('SET', KEYS[7], epoch) end
local floor = tonumber(redis.call('GET', KEYS[3]) or '0')
local new_floor = floor
if ARGV[2] == '1' and g > new_floor then new_floor = g end
-- The changes are the body's lines after the first: "<id> <micros>" or "<id> -".
for id, pos in string.gmatch(ARGV[6], '\\n(%S+) (%S+)') do
  redis.call('ZADD', KEYS[1], 'GT', g, id)
  if pos == '-' then
    redis.call('ZREM', KEYS[2], id)
  else
    redis.call('ZADD', KEYS[2], pos, id)
  end
end
local n = redis.call('ZCARD', KEYS[1])
local keep = tonumber(ARGV[3])
if n > keep then
  local old = redis.call('ZRANGE', KEYS[1], 0, n - keep - 1, 'WITHSCORES')
  for i = 1, #old, 2 do redis.call('ZREM', KEYS[2], old[i]) end
  local top = tonumber(old[#old])
  if top > new_floor then new_floor = top end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - keep - 1)
end
if new_floor > floor then redis.call('SET', KEYS[3], new_floor) end
local seq = redis.call('INCR', KEYS[4])
local msg = seq .. ' ' .. epoch .. ' ' .. ARGV[6]
local added = redis.pcall('XADD', KEYS[5], 'MAXLEN', '~', ARGV[4], seq .. '-0', 'm', msg)
if type(added) == 'table' and added.err then
  -- The log holds ids above seq (its counter was lost alone): start it again.
  redis.call('DEL', KEYS[5])
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[4], seq .. '-0', 'm', msg)
end
redis.call('PUBLISH', KEYS[6], msg)
return seq`,
  7,
);

/** KEYS: any. Returns 1 or 0 per key: whether it exists (one round trip for many keys). */
const EXISTING = new LuaScript(
  "existing",
  `local out = {}
for i, k in ipairs(KEYS) do out[i] = redis.call('EXISTS', k) end
return out`,
  0,
);

/** KEYS: changeSeq, epoch, generation. ARGV: epoch candidate. Returns {seq, epoch, generation}. */
const READ_FEED_STATE = new LuaScript(
  "read-feed-state",
  `
local epoch = redis.call('GET', KEYS[2])
if not epoch then epoch = ARGV[1]; redis.call('SET', KEYS[2], epoch) end
return {tonumber(redis.call('GET', KEYS[1]) or '0'), epoch, tonumber(redis.call('GET', KEYS[3]) or '0')}`,
  3,
);

// Deletes the lock only if we still hold it (it may have expired and been taken by another).
const RELEASE_LOCK = new LuaScript(
  "release-lock",
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
  1,
);

/** Most todo versions kept for checking L2 entries (~100 bytes each, twice); past it the floor rises. */
export const VERSIONS_KEPT = 100_000;
/** Change sets kept for readers that missed some (each a line per change). */
export const CHANGE_LOG_LENGTH = 1_000;

const newEpoch = () => randomBytes(6).toString("base64url");

export type EntryState = "missing" | "fresh" | "stale";
const STATES: readonly EntryState[] = ["missing", "fresh", "stale"];

export interface EntryRead {
  state: EntryState;
  /** The stored bytes when fresh, else null. */
  value: Buffer | null;
  /** The generation counter when read: a fill that follows stamps its data with it. */
  generation: number;
}

/** Reads one L2 entry and checks it against what changed since it was stamped. */
export async function readEntry(redis: Redis, keys: CacheKeys, key: string): Promise<EntryRead> {
  const reply = (await READ_ENTRY.runBuffer(redis, [
    key,
    keys.versions,
    keys.positions,
    keys.floor,
    keys.generation,
  ])) as [number, Buffer | null, number];
  return {
    state: STATES[reply[0]] ?? "stale",
    value: reply[1] ?? null,
    generation: Number(reply[2]),
  };
}

/**
 * Writes an L2 entry unless a newer (or equally new) one is there; with
 * `onlyIfPresent`, only over an entry someone cached; a cursor page with its
 * `index` entry (page-index.ts). True when written.
 */
export async function writeEntry(
  redis: Redis,
  keys: CacheKeys,
  write: {
    key: string;
    stamp: number;
    value: Buffer;
    ttlSec: number;
    onlyIfPresent?: boolean;
    index?: PageIndexEntry;
  },
): Promise<boolean> {
  const { index } = write;
  const args = [
    write.key,
    keys.pageIndex,
    write.stamp,
    write.value,
    write.ttlSec,
    write.onlyIfPresent === true ? "xx" : "-",
    index?.member ?? "",
    index?.score ?? "0",
    PAGE_INDEX_MAX,
  ];
  return Number(await WRITE_ENTRY.run(redis, args)) === 1;
}

/** Per position (micros), the page-index members at or below it, nearest first (page-index.ts). */
export async function findIndexedPages(
  redis: Redis,
  keys: CacheKeys,
  micros: readonly number[],
  perPosition: number,
): Promise<string[][]> {
  if (micros.length === 0) return [];
  return (await FIND_INDEXED_PAGES.run(redis, [
    keys.pageIndex,
    perPosition,
    ...micros,
  ])) as string[][];
}

/** The next generation: call after a commit and before reading its changes back. */
export async function allocateGeneration(redis: Redis, keys: CacheKeys): Promise<number> {
  return redis.incr(keys.generation);
}

/** Publishes one change set (after its entries are written); returns its seq. */
export async function publishChanges(
  redis: Redis,
  keys: CacheKeys,
  change: { generation: number; reset: boolean; changes: readonly TodoChange[] },
): Promise<number> {
  const args: readonly (string | number)[] = [
    keys.versions,
    keys.positions,
    keys.floor,
    keys.changeSeq,
    keys.changeLog,
    keys.invalidationChannel,
    keys.epoch,
    change.generation,
    change.reset ? 1 : 0,
    VERSIONS_KEPT,
    CHANGE_LOG_LENGTH,
    newEpoch(),
    encodeChangeBody(change.generation, change.reset, Date.now(), change.changes),
  ];
  return Number(await PUBLISH_CHANGES.run(redis, args));
}

/** Which of `keys` exist now, in one round trip (false for each key that does not). */
export async function existingKeys(redis: Redis, keys: readonly string[]): Promise<boolean[]> {
  if (keys.length === 0) return [];
  const reply = (await EXISTING.runWithKeys(redis, keys)) as number[];
  return keys.map((_, i) => Number(reply[i]) === 1);
}

export interface FeedState {
  seq: number;
  epoch: string;
  generation: number;
}

/** Where the change feed stands now (and the epoch, created if this Redis has none yet). */
export async function readFeedState(redis: Redis, keys: CacheKeys): Promise<FeedState> {
  const [seq, epoch, generation] = (await READ_FEED_STATE.run(redis, [
    keys.changeSeq,
    keys.epoch,
    keys.generation,
    newEpoch(),
  ])) as [number, string, number];
  return { seq: Number(seq), epoch: String(epoch), generation: Number(generation) };
}

/** The logged change set messages after `seq`, oldest first (what a reader missed). */
export async function readChangeLog(
  redis: Redis,
  keys: CacheKeys,
  afterSeq: number,
): Promise<string[]> {
  const rows = await redis.xrange(keys.changeLog, `${afterSeq + 1}-0`, "+");
  return rows.map(([, fields]) => fields[1] ?? "");
}

/** Takes the fill lock for `key`: the token when we got it, null when another holds it. */
export async function tryFillLock(
  redis: Redis,
  keys: CacheKeys,
  key: string,
  ttlMs: number,
): Promise<string | null> {
  const token = randomBytes(9).toString("base64url");
  const ok = await redis.set(keys.fillLock(key), token, "PX", ttlMs, "NX");
  return ok === "OK" ? token : null;
}

export async function releaseFillLock(
  redis: Redis,
  keys: CacheKeys,
  key: string,
  token: string,
): Promise<void> {
  await RELEASE_LOCK.run(redis, [keys.fillLock(key), token]);
}
