import { type PageRange, type Position, rangeHolds } from "./position";

/**
 * What one committed batch (or several, coalesced) changed, as the worker
 * publishes it and every read process applies it: each todo touched, with its
 * position now (null: it no longer exists). A cached page is affected when it
 * holds one of the ids or its range holds one of the new positions; an item when
 * its id is listed. Nothing else a process holds is touched.
 */
export interface TodoChange {
  readonly id: string;
  readonly position: Position | null;
}

export interface ChangeSet {
  /** Gap-free publication number within one epoch. */
  readonly seq: number;
  readonly epoch: string;
  /** The generation allocated for it: content stamped at or above it already reflects it. */
  readonly generation: number;
  /**
   * Everything stamped below `generation` is stale (a worker joined its group, or
   * the data was replaced wholesale): answers are refreshed, not dropped.
   */
  readonly reset: boolean;
  /** When the worker published it (ms since the epoch), to measure how long readers lag. */
  readonly publishedAt: number;
  readonly changes: readonly TodoChange[];
}

/**
 * The part of the message the worker writes; the publish script prefixes
 * `<seq> <epoch> ` (it owns both counters). One line per change: `<id> <micros>`
 * or `<id> -` for a todo that no longer exists.
 */
export function encodeChangeBody(
  generation: number,
  reset: boolean,
  publishedAt: number,
  changes: readonly TodoChange[],
): string {
  let out = `${generation} ${reset ? 1 : 0} ${publishedAt}`;
  for (const c of changes) out += `\n${c.id} ${c.position === null ? "-" : c.position.micros}`;
  return out;
}

const num = (s: string | undefined): number =>
  s !== undefined && /^[0-9]+$/.test(s) ? Number(s) : NaN;

/** null for a message this code did not write. */
export function decodeChangeSet(message: string): ChangeSet | null {
  const lines = message.split("\n");
  const head = (lines[0] ?? "").split(" ");
  if (head.length !== 5) return null;
  const [seqText, epoch, genText, resetText, atText] = head;
  const seq = num(seqText);
  const generation = num(genText);
  const publishedAt = num(atText);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(generation) || epoch === undefined)
    return null;
  if (!Number.isSafeInteger(publishedAt) || (resetText !== "0" && resetText !== "1")) return null;
  const changes: TodoChange[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const sp = line.indexOf(" ");
    if (sp < 0) return null;
    const id = line.slice(0, sp);
    const micros = line.slice(sp + 1);
    if (micros === "-") changes.push({ id, position: null });
    else {
      const m = num(micros);
      if (!Number.isSafeInteger(m)) return null;
      changes.push({ id, position: { micros: m, id } });
    }
  }
  return { seq, epoch, generation, reset: resetText === "1", publishedAt, changes };
}

/** Whether `change` alters a page holding `ids` over `range`: one of its todos, or a todo now inside it. */
export function pageTouched(
  ids: ReadonlySet<string>,
  range: PageRange,
  change: TodoChange,
): boolean {
  return ids.has(change.id) || (change.position !== null && rangeHolds(range, change.position));
}
