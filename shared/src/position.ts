import type { PageCursor } from "./cursor";

/**
 * A todo's place in the order `GET /todos` serves (`created_at DESC, id DESC`):
 * created_at in microseconds since the epoch (exact as a JS number: cursors are
 * bounded by MAX_CURSOR_MICROS), then the id, which breaks ties the way Postgres
 * compares uuids (lower-case hex compares the same byte for byte).
 */
export interface Position {
  readonly micros: number;
  readonly id: string;
}

/** Negative when `a` sorts before `b` in ascending order (older first). */
export function comparePositions(a: Position, b: Position): number {
  if (a.micros !== b.micros) return a.micros - b.micros;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function positionOfCursor(cursor: PageCursor): Position {
  return { micros: Number(cursor.createdAtMicros), id: cursor.id };
}

/**
 * The keys a keyset page covers: the page with cursor `high` (null: the first page)
 * holds the todos just older than `high`, down to `low`, its last todo; `low` is
 * null when the page is not full (it then reaches the end of the list). A todo
 * whose position falls in [low, high) belongs on this page, so creating, moving or
 * deleting one there changes the page's bytes; one outside it never does.
 */
export interface PageRange {
  readonly low: Position | null;
  readonly high: Position | null;
}

export function rangeHolds(range: PageRange, p: Position): boolean {
  if (range.high !== null && comparePositions(p, range.high) >= 0) return false;
  return range.low === null || comparePositions(p, range.low) >= 0;
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}(?::?\d{2})?)$/;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 instant with at most microseconds, as the write API issues them (toISOString). */
export function isRfc3339(text: string): boolean {
  return RFC3339.test(text) && !Number.isNaN(Date.parse(text));
}

/**
 * Microseconds since the epoch of a timestamp as the worker holds it: RFC 3339 from
 * the write API (`2026-12-01T21:30:22.123Z`) or Postgres text output
 * (`2026-12-01 21:30:22.123456+00`). Exact to the microsecond, as Postgres stores it
 * (Date.parse would keep milliseconds only). Throws on anything else.
 */
export function microsOfTimestamp(text: string): number {
  const m = TIMESTAMP.exec(text);
  if (m === null) throw new Error(`not a timestamp: ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, frac = "", zone = "Z"] = m;
  let offsetMin = 0;
  if (zone !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"));
  }
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return (ms - offsetMin * 60_000) * 1000 + Number(frac.padEnd(6, "0"));
}
