/**
 * Content negotiation for prebuilt bodies: which encoding an `Accept-Encoding`
 * header picks, and whether an `If-None-Match` header matches an ETag. Pure.
 */
export const IDENTITY = 0;
export const GZIP = 1;
export const BROTLI = 2;
export type EncodingIndex = typeof IDENTITY | typeof GZIP | typeof BROTLI;

/** q-value of one `coding;q=x` element, 1 when absent; NaN-safe (junk counts as 0). */
function qValue(params: string): number {
  const m = /(?:^|;)\s*q\s*=([^;]*)/i.exec(params);
  if (m === null) return 1;
  const raw = (m[1] as string).trim();
  const q = /^[0-9.]+$/.test(raw) ? Number(raw) : Number.NaN;
  return Number.isFinite(q) && q >= 0 && q <= 1 ? q : 0;
}

/**
 * Picks brotli, then gzip, then identity, among the codings the client accepts
 * (q > 0). Brotli is preferred at equal q: its bodies are the smallest. A `*`
 * covers codings not named. Identity is always available as the last resort.
 */
export function parseAcceptEncoding(header: string): EncodingIndex {
  if (header === "") return IDENTITY;
  let br = -1;
  let gzip = -1;
  let star = -1;
  for (const element of header.split(",")) {
    const semi = element.indexOf(";");
    const name = (semi < 0 ? element : element.slice(0, semi)).trim().toLowerCase();
    const q = semi < 0 ? 1 : qValue(element.slice(semi + 1));
    if (name === "br") br = q;
    else if (name === "gzip" || name === "x-gzip") gzip = q;
    else if (name === "*") star = q;
  }
  if (br < 0) br = star;
  if (gzip < 0) gzip = star;
  if (br > 0 && br >= gzip) return BROTLI;
  if (gzip > 0) return GZIP;
  if (br > 0) return BROTLI;
  return IDENTITY;
}

/**
 * Memoizes `parseAcceptEncoding` per distinct header string: clients send a handful
 * of distinct values, so a warm hit costs one Map lookup. Bounded: a client sending
 * random headers only refills the memo.
 */
export function acceptEncodingMemo(maxEntries = 256): (header: string) => EncodingIndex {
  const memo = new Map<string, EncodingIndex>();
  // Most requests repeat the previous header: a string compare is cheaper than hashing a new string.
  let lastHeader = "";
  let lastPicked: EncodingIndex = IDENTITY;
  return function negotiateEncoding(header) {
    if (header === lastHeader) return lastPicked;
    let picked = memo.get(header);
    if (picked === undefined) {
      picked = parseAcceptEncoding(header);
      if (memo.size >= maxEntries) memo.clear();
      memo.set(header, picked);
    }
    lastHeader = header;
    lastPicked = picked;
    return picked;
  };
}

/**
 * `If-None-Match` against the ETag of the selected representation, with the weak
 * comparison RFC 9110 prescribes for it (a `W/` prefix is ignored); `*` matches.
 */
export function ifNoneMatchMatches(header: string, etag: string): boolean {
  if (header === etag) return true;
  if (header.length > 8192) return false;
  for (const raw of header.split(",")) {
    let tag = raw.trim();
    if (tag === "*") return true;
    if (tag.startsWith("W/")) tag = tag.slice(2);
    if (tag === etag) return true;
  }
  return false;
}
