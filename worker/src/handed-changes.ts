import type { Position } from "@million-rps/shared";
import type { AppliedChange } from "./apply";

/**
 * How the workers hand what their commits changed to the fleet's one publisher
 * (change-relay.ts): one stream entry per hand-off, field `c` the changes, field `r`
 * "1" when readers must refresh everything. A change is
 * `[id, micros now or null, existed 0|1, micros before or null]`: a todo's position
 * is its `created_at` with its own id as the tie-break, so the micros are all of it.
 */
type Wire = [id: string, position: number | null, existed: 0 | 1, was: number | null];

/** What one stream entry carries. */
export interface HandedChanges {
  changes: AppliedChange[];
  reset: boolean;
}

const at = (id: string, micros: number | null): Position | null =>
  micros === null ? null : { micros, id };

export function encodeHandedChanges(changes: readonly AppliedChange[]): string {
  return JSON.stringify(
    changes.map(
      (c): Wire => [c.id, c.position?.micros ?? null, c.existed ? 1 : 0, c.was?.micros ?? null],
    ),
  );
}

const micros = (v: unknown): v is number | null => v === null || Number.isSafeInteger(v);

/** The stream entry's fields as Redis returns them; null for an entry this code did not write. */
export function decodeHandedChanges(fields: readonly string[]): HandedChanges | null {
  const byName = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2)
    byName.set(fields[i] as string, fields[i + 1] as string);
  const text = byName.get("c");
  const reset = byName.get("r");
  if (text === undefined || (reset !== "0" && reset !== "1")) return null;
  let wire: unknown;
  try {
    wire = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(wire)) return null;
  const changes: AppliedChange[] = [];
  for (const w of wire) {
    if (!Array.isArray(w) || w.length !== 4) return null;
    const [id, position, existed, was] = w as unknown[];
    if (typeof id !== "string" || !micros(position) || !micros(was)) return null;
    if (existed !== 0 && existed !== 1) return null;
    changes.push({ id, position: at(id, position), existed: existed === 1, was: at(id, was) });
  }
  return { changes, reset: reset === "1" };
}

/**
 * Adds `changes` (committed after everything already in `pending`) to it, by todo id:
 * the last position wins, but a todo created and then changed before a publication is
 * still new to readers, and one updated and then deleted was where the update left it.
 */
export function mergeChanges(
  pending: Map<string, AppliedChange>,
  changes: readonly AppliedChange[],
): void {
  for (const c of changes) {
    const earlier = pending.get(c.id);
    pending.set(
      c.id,
      earlier === undefined ? c : { ...c, existed: earlier.existed, was: earlier.was ?? c.was },
    );
  }
}
