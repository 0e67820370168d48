import type { CacheEntry, ChangeSet } from "@million-rps/shared";
import { type Representation, representationOf } from "./representation";

/** L1 value of `GET /todos/:id`: the prebuilt todo, or null for "no such todo" (remembered too). */
export interface ItemAnswer {
  readonly id: string;
  readonly rep: Representation | null;
  readonly etag: string;
  readonly bytes: number;
}

const ABSENT_BYTES = 64;

export function itemAnswer(entry: CacheEntry, cacheControl: string): ItemAnswer {
  const { subject } = entry;
  const id = subject.kind === "item" ? subject.id : "";
  if (subject.kind !== "item" || !subject.found) {
    return { id, rep: null, etag: entry.etag, bytes: ABSENT_BYTES };
  }
  const rep = representationOf(entry, { cacheControl });
  return { id, rep, etag: entry.etag, bytes: rep.bytes };
}

export function itemTouchedBy(answer: ItemAnswer, cs: ChangeSet): boolean {
  return cs.changes.some((c) => c.id === answer.id);
}
