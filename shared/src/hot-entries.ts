import type { Redis } from "ioredis";
import type { CacheKeys } from "./cache-keys";

/**
 * The hot pages a publication wrote to L2, and the todos and cursor pages it rewrote
 * within a byte budget, pushed to every reader on `keys.hotEntriesChannel` just before the
 * change set itself (one connection, so in that order): a reader that holds one
 * swaps it in without reading it back, so a change costs each process no Redis
 * round trip and Redis no script per process. A reader that missed the push, or
 * holds an entry not pushed, reads L2 as before.
 *
 * Layout, repeated: key length (uint16 BE), key (UTF-8), entry length (uint32 BE),
 * the entry as stored in L2 (cache-entry.ts: its stamp comes first, `entryStamp`).
 */
export interface StoredEntry {
  key: string;
  /** The entry encoded as L2 stores it. */
  value: Buffer;
}

/**
 * Larger entries are not pushed: every reader gets every push, so a big page held by
 * few would cost all of them. Page 1 of limit 100 is ~27 KB in its three encodings.
 */
export const HOT_ENTRY_PUSH_MAX_BYTES = 64 * 1024;

/** What one publication pushes, and how many of them are cursor pages and todos. */
export interface Push {
  entries: StoredEntry[];
  cursorPages: number;
  todos: number;
}

/**
 * The entries of a publication to push: every hot page, then the rewritten todos, then
 * the rewritten cursor pages, in order, while their bytes fit in `budget` (every reader
 * gets every push, held or not, so the budget bounds what an entry few hold costs them
 * all). Todos go first: each is a few hundred bytes and saves a reader a round trip.
 * None larger than HOT_ENTRY_PUSH_MAX_BYTES.
 */
export function entriesToPush(
  stored: readonly StoredEntry[],
  o: {
    hot: ReadonlySet<string>;
    todos: ReadonlySet<string>;
    cursor: ReadonlySet<string>;
    budget: number;
  },
): Push {
  const small = stored.filter((e) => e.value.length <= HOT_ENTRY_PUSH_MAX_BYTES);
  const entries = small.filter((e) => o.hot.has(e.key));
  let left = o.budget;
  const within = (kind: ReadonlySet<string>): number => {
    let n = 0;
    for (const e of small) {
      if (!kind.has(e.key) || o.hot.has(e.key) || e.value.length > left) continue;
      left -= e.value.length;
      entries.push(e);
      n++;
    }
    return n;
  };
  const todos = within(o.todos);
  const cursorPages = within(o.cursor);
  return { entries, cursorPages, todos };
}

export function encodeHotEntries(entries: readonly StoredEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const key = Buffer.from(e.key, "utf8");
    const head = Buffer.allocUnsafe(2 + key.length + 4);
    head.writeUInt16BE(key.length, 0);
    key.copy(head, 2);
    head.writeUInt32BE(e.value.length, 2 + key.length);
    parts.push(head, e.value);
  }
  return Buffer.concat(parts);
}

/** null for a message this version cannot read (truncated, or another layout). */
export function decodeHotEntries(buf: Buffer): StoredEntry[] | null {
  const out: StoredEntry[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 2 > buf.length) return null;
    const keyLength = buf.readUInt16BE(at);
    const valueAt = at + 2 + keyLength + 4;
    if (valueAt > buf.length) return null;
    const valueLength = buf.readUInt32BE(valueAt - 4);
    if (valueAt + valueLength > buf.length) return null;
    out.push({
      key: buf.toString("utf8", at + 2, at + 2 + keyLength),
      value: buf.subarray(valueAt, valueAt + valueLength),
    });
    at = valueAt + valueLength;
  }
  return out;
}

/** Pushes the entries small enough to push; call after writing them and before publishing. */
export async function pushHotEntries(
  redis: Redis,
  keys: CacheKeys,
  entries: readonly StoredEntry[],
): Promise<number> {
  const pushed = entries.filter((e) => e.value.length <= HOT_ENTRY_PUSH_MAX_BYTES);
  if (pushed.length > 0) await redis.publish(keys.hotEntriesChannel, encodeHotEntries(pushed));
  return pushed.length;
}
