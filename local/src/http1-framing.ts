/**
 * HTTP/1.1 response framing on raw bytes, for the clients that must see every
 * response themselves (the soak's keep-alive pool and pipelined reader, the read
 * bench's pipelined client): status line, headers, Content-Length, no body for
 * 1xx, 204 and 304. Anything else (chunked, no length, a bad status line) is a
 * FramingError: the servers under test always send Content-Length, so a response
 * without one is the bug to report, not a format to decode.
 */

/** A response, as framed. `head` is the status line and headers, as received. */
export interface Response1 {
  status: number;
  head: string;
  /** The body when it was kept (see ResponseParser), else null. */
  body: Buffer | null;
  bodyLength: number;
  /** First and last byte of the body (-1 when empty): enough to check a JSON array without keeping it. */
  first: number;
  last: number;
}

export class FramingError extends Error {
  override name = "FramingError";
}

const CRLFCRLF = Buffer.from("\r\n\r\n");
const MAX_HEAD = 64 * 1024;

/** The value of header `name` (lower case) in a head, or null. */
export function header(head: string, name: string): string | null {
  const at = head.toLowerCase().indexOf(`\r\n${name}:`);
  if (at < 0) return null;
  const from = at + name.length + 3;
  const end = head.indexOf("\r\n", from);
  return head.slice(from, end < 0 ? undefined : end).trim();
}

/**
 * Frames responses out of a byte stream, in order, however the reads split them;
 * throws FramingError when it cannot. `onResponse` may throw one too (an answer
 * to no request): `feed` stops there and rethrows it.
 */
export class ResponseParser {
  private pending: Buffer | null = null;
  private inBody = false;
  private left = 0;
  private current: Response1 | null = null;
  private parts: Buffer[] | null = null;

  /** `keepBody`: asked at each response head; false keeps only its length and first/last byte. */
  constructor(
    private readonly onResponse: (r: Response1) => void,
    private readonly keepBody: () => boolean = () => false,
  ) {}

  /** True while a response has started arriving and is not complete. */
  get midResponse(): boolean {
    return this.inBody || this.pending !== null;
  }

  feed(chunk: Buffer): void {
    let buf = chunk;
    let off = 0;
    while (off < buf.length) {
      if (!this.inBody) {
        if (this.pending !== null) {
          buf = Buffer.concat([this.pending, buf.subarray(off)]);
          off = 0;
          this.pending = null;
        }
        const end = buf.indexOf(CRLFCRLF, off);
        if (end < 0) {
          if (buf.length - off > MAX_HEAD) throw new FramingError("head over 64 KiB");
          this.pending = Buffer.from(buf.subarray(off));
          return;
        }
        const head = buf.toString("latin1", off, end);
        off = end + 4;
        this.start(head);
      }
      const r = this.current as Response1;
      const take = Math.min(this.left, buf.length - off);
      if (take > 0) {
        if (this.left === r.bodyLength) r.first = buf[off] as number;
        if (take === this.left) r.last = buf[off + take - 1] as number;
        if (this.parts !== null) this.parts.push(buf.subarray(off, off + take));
        this.left -= take;
        off += take;
      }
      if (this.left > 0) return;
      this.inBody = false;
      if (this.parts !== null) r.body = Buffer.concat(this.parts);
      this.current = null;
      this.onResponse(r);
    }
  }

  /** Reads one head: the status and how long a body follows. */
  private start(head: string): void {
    const m = /^HTTP\/1\.[01] (\d{3})(?: |\r|$)/.exec(head);
    if (m === null) throw new FramingError(`status line "${head.slice(0, 30)}"`);
    const status = Number(m[1]);
    let length = 0;
    // No body for 1xx, 204 and 304, whatever the headers say (RFC 9110 §6.4.1).
    if (status >= 200 && status !== 204 && status !== 304) {
      if (header(head, "transfer-encoding") !== null)
        throw new FramingError("Transfer-Encoding instead of Content-Length");
      const cl = header(head, "content-length");
      if (cl === null || !/^\d+$/.test(cl))
        throw new FramingError(`no Content-Length (status ${status})`);
      length = Number(cl);
    }
    this.current = { status, head, body: null, bodyLength: length, first: -1, last: -1 };
    this.parts = this.keepBody() ? [] : null;
    this.left = length;
    this.inBody = true;
  }
}
