import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
import type { PageRange, Position } from "./position";
import type { TodoPage } from "./read-model";

/**
 * One cached answer as the whole fleet shares it in Redis (L2): the body in every
 * encoding the read fleet serves, the strong ETag, and what invalidation needs to
 * know about it. Encoded once, by whoever read it from Postgres (the worker for
 * the hot pages, else the one read process that won the fill lock), so no other
 * process compresses or hashes it again.
 *
 * Layout: `<stamp>\n<header JSON>\n<identity><gzip><brotli>`. The stamp comes first
 * so the Lua scripts can read it with GETRANGE; the header is JSON so they can
 * check ids and ranges with cjson (see cache-scripts.ts).
 */
export interface CacheEntry extends EncodedBody {
  /**
   * The generation the content reflects: it was read after every batch numbered up
   * to the stamp had committed. A change numbered above it may not be in it.
   */
  readonly stamp: number;
  readonly subject: PageSubject | ItemSubject;
}

/** A body in every encoding the read fleet serves, with its strong validator. */
export interface EncodedBody {
  /** Content hash (22 base64url characters); variants append `-gz` / `-br`. */
  readonly etag: string;
  readonly identity: Buffer;
  /** null when the body is too small to be worth compressing. */
  readonly gzip: Buffer | null;
  readonly brotli: Buffer | null;
}

export interface PageSubject {
  readonly kind: "page";
  readonly ids: readonly string[];
  readonly range: PageRange;
  /** The next page's cursor, for the `Link` header. */
  readonly next: string | null;
}

export interface ItemSubject {
  readonly kind: "item";
  readonly id: string;
  /** False: "no such todo", remembered like any answer (the body is the empty string). */
  readonly found: boolean;
}

/** Below this, compressing saves too little to be worth a second body. */
export const COMPRESS_MIN_BYTES = 1024;

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** Strong validator from the bytes themselves: unchanged content keeps its ETag. */
export function contentTag(identity: Buffer): string {
  return createHash("sha256").update(identity).digest("base64url").slice(0, 22);
}

/** Hashes a body and compresses it (gzip and brotli, off the event loop). */
export async function encodeBody(body: string): Promise<EncodedBody> {
  const identity = Buffer.from(body, "utf8");
  const etag = contentTag(identity);
  if (identity.length < COMPRESS_MIN_BYTES) return { etag, identity, gzip: null, brotli: null };
  const [gz, br] = await Promise.all([
    gzipAsync(identity, { level: 6 }),
    brotliAsync(identity, {
      params: {
        // Quality 5: most of brotli's gain at a few ms per page; done once per change for the fleet.
        [constants.BROTLI_PARAM_QUALITY]: 5,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: identity.length,
      },
    }),
  ]);
  return { etag, identity, gzip: gz, brotli: br };
}

export async function buildEntry(
  stamp: number,
  subject: PageSubject | ItemSubject,
  body: string,
): Promise<CacheEntry> {
  return { stamp, subject, ...(await encodeBody(body)) };
}

export function pageSubject(page: TodoPage): PageSubject {
  return { kind: "page", ids: page.ids, range: page.range, next: page.next };
}

export function itemSubject(id: string, json: string | null): ItemSubject {
  return { kind: "item", id, found: json !== null };
}

type WirePosition = [micros: string, id: string];

/** The header as the Lua scripts read it: `ids` always, `lo`/`hi` for pages (micros as text: exact). */
interface Header {
  k: "p" | "i";
  ids: string[];
  lo?: WirePosition | null;
  hi?: WirePosition | null;
  n?: string | null;
  f?: 0 | 1;
  t: string;
  b: [number, number, number];
}

const wire = (p: Position | null): WirePosition | null =>
  p === null ? null : [String(p.micros), p.id];
const unwire = (p: WirePosition | null | undefined): Position | null =>
  p == null ? null : { micros: Number(p[0]), id: p[1] };

export function encodeEntry(e: CacheEntry): Buffer {
  const s = e.subject;
  const lengths: Header["b"] = [e.identity.length, e.gzip?.length ?? 0, e.brotli?.length ?? 0];
  const header: Header =
    s.kind === "page"
      ? {
          k: "p",
          ids: [...s.ids],
          lo: wire(s.range.low),
          hi: wire(s.range.high),
          n: s.next,
          t: e.etag,
          b: lengths,
        }
      : { k: "i", ids: [s.id], f: s.found ? 1 : 0, t: e.etag, b: lengths };
  const parts = [Buffer.from(`${e.stamp}\n${JSON.stringify(header)}\n`, "utf8"), e.identity];
  if (e.gzip !== null) parts.push(e.gzip);
  if (e.brotli !== null) parts.push(e.brotli);
  return Buffer.concat(parts);
}

/** The stamp an encoded entry starts with (`<stamp>\n…`), read without decoding the rest; null if none. */
export function entryStamp(buf: Buffer): number | null {
  const nl = buf.indexOf(10);
  if (nl <= 0 || nl > 16) return null;
  const stamp = Number(buf.toString("latin1", 0, nl));
  return Number.isSafeInteger(stamp) && stamp >= 0 ? stamp : null;
}

/** null for anything that is not an entry this code wrote (an older layout, a truncated value). */
export function decodeEntry(buf: Buffer): CacheEntry | null {
  const stamp = entryStamp(buf);
  if (stamp === null) return null;
  const nl1 = buf.indexOf(10);
  const nl2 = buf.indexOf(10, nl1 + 1);
  if (nl2 < 0) return null;
  let h: Header;
  try {
    h = JSON.parse(buf.toString("utf8", nl1 + 1, nl2)) as Header;
  } catch {
    return null;
  }
  const [li, lg, lb] = h.b ?? [];
  const start = nl2 + 1;
  if (li === undefined || lg === undefined || lb === undefined) return null;
  if (start + li + lg + lb !== buf.length || !Array.isArray(h.ids)) return null;
  const identity = buf.subarray(start, start + li);
  const gz = lg === 0 ? null : buf.subarray(start + li, start + li + lg);
  const br = lb === 0 ? null : buf.subarray(start + li + lg, buf.length);
  const subject: PageSubject | ItemSubject =
    h.k === "p"
      ? {
          kind: "page",
          ids: h.ids,
          range: { low: unwire(h.lo), high: unwire(h.hi) },
          next: h.n ?? null,
        }
      : { kind: "item", id: h.ids[0] ?? "", found: h.f === 1 };
  return { stamp, subject, etag: h.t, identity, gzip: gz, brotli: br };
}
