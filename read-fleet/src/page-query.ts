import { decodeCursor, HttpError, LIMIT_MAX, parseLimit } from "@million-rps/shared";

/** What `GET /todos` was asked for, canonical: the same page always has the same key. */
export interface PageQuery {
  readonly limit: number;
  /** The opaque cursor exactly as issued, or null for the first page. */
  readonly cursor: string | null;
  /** The L1 key: every spelling of the same page (order, junk parameters, escapes) maps to it. */
  readonly key: string;
}

const pageQuery = (limit: number, cursor: string | null): PageQuery => ({
  limit,
  cursor,
  key: cursor === null ? String(limit) : `${limit}:${cursor}`,
});

const MAX_QUERY_LENGTH = 2048;

function badRequest(message: string): HttpError {
  return new HttpError(400, "bad_request", message);
}

function decodeComponent(raw: string): string | null {
  if (!raw.includes("%") && !raw.includes("+")) return raw;
  try {
    return decodeURIComponent(raw.replaceAll("+", " "));
  } catch {
    return null;
  }
}

/**
 * Parses the raw query string of `GET /todos` strictly: `limit` is 1..1000 in
 * plain digits, `cursor` must be one this API issued, and neither may repeat.
 * Other parameters are ignored (cache busters, tracking tags): they never make
 * another L1 entry. Throws HttpError 400.
 */
export function parsePageQuery(rawQuery: string): PageQuery {
  if (rawQuery.length > MAX_QUERY_LENGTH) throw badRequest("query string is too long");
  let limitRaw: string | undefined;
  let cursorRaw: string | undefined;
  if (rawQuery !== "") {
    for (const pair of rawQuery.split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
      const value = decodeComponent(eq < 0 ? "" : pair.slice(eq + 1));
      if (name === null || value === null) throw badRequest("query string is not valid UTF-8");
      if (name === "limit") {
        if (limitRaw !== undefined) throw badRequest("limit must be given at most once");
        limitRaw = value;
      } else if (name === "cursor") {
        if (cursorRaw !== undefined) throw badRequest("cursor must be given at most once");
        cursorRaw = value;
      }
    }
  }
  const limit = parseLimit(limitRaw);
  if (limit === null) {
    throw badRequest(`limit must be an integer from 1 to ${LIMIT_MAX}`);
  }
  if (cursorRaw === undefined) return pageQuery(limit, null);
  if (decodeCursor(cursorRaw) === null) {
    throw badRequest("cursor is not a cursor this API issued");
  }
  return pageQuery(limit, cursorRaw);
}

/** The `Link` header value pointing at the next page (RFC 8288), relative to this origin. */
export function nextLink(limit: number, next: string): string {
  return `</todos?limit=${limit}&cursor=${next}>; rel="next"`;
}
