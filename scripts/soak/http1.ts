import { connect, type Socket } from "node:net";

/**
 * A small HTTP/1.1 client on raw sockets, for load the soak's own process can
 * afford: on this 2-core box `fetch` costs ~250 µs of client CPU per 21 KB read,
 * node:http ~60 µs, this ~20 µs. It frames every response itself (status line,
 * headers, Content-Length; no body for 1xx, 204 and 304) and refuses anything
 * else (chunked, no length, a bad status line) as a framing error.
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

/** Frames responses out of a byte stream, in order; throws FramingError when it cannot. */
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
        const m = /^HTTP\/1\.1 (\d{3}) /.exec(head);
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
}

/** What a request ended with: a response, or the error code of why there is none. */
export type Outcome = { ok: true; res: Response1 } | { ok: false; code: string };

/** Why a request got no answer: the socket's error code, a close, or the client's timeout. */
export const CLOSED = "ECLOSED";
export const TIMEOUT = "TimeoutError";

class PoolConn {
  readonly socket: Socket;
  private waiting: ((o: Outcome) => void) | null = null;
  private timer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private errorCode: string | null = null;
  private reusable = true;
  private readonly parser: ResponseParser;
  dead = false;

  constructor(
    private readonly pool: HttpPool,
    host: string,
    port: number,
  ) {
    this.parser = new ResponseParser(
      (res) => this.done({ ok: true, res }),
      () => this.pool.keepBodies,
    );
    this.socket = connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.on("data", (chunk: Buffer) => {
      try {
        this.parser.feed(chunk);
      } catch (err) {
        this.fail(`framing: ${(err as Error).message}`);
      }
    });
    this.socket.on("error", (err: NodeJS.ErrnoException) => {
      this.errorCode ??= err.code ?? err.name;
    });
    this.socket.on("close", () => this.fail(this.errorCode ?? CLOSED));
  }

  send(bytes: Buffer | string, timeoutMs: number, answer: (o: Outcome) => void): void {
    clearTimeout(this.idleTimer);
    this.waiting = answer;
    this.timer = setTimeout(() => this.fail(TIMEOUT), timeoutMs);
    this.socket.write(bytes);
  }

  private done(o: Outcome): void {
    const answer = this.waiting;
    this.waiting = null;
    clearTimeout(this.timer);
    if (o.ok && header(o.res.head, "connection")?.toLowerCase() === "close") this.reusable = false;
    if (answer === null) {
      this.fail("framing: an answer to no request");
      return;
    }
    answer(o);
    if (this.dead) return;
    if (!this.reusable) this.fail(CLOSED);
    else {
      // Closed by us well before the servers' keep-alive timeouts (uWS 10 s, node:http 5 s), so a
      // request is never written onto a connection the server is closing as idle.
      this.idleTimer = setTimeout(() => this.fail(CLOSED), 2_000);
      this.pool.idle(this);
    }
  }

  private fail(code: string): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.timer);
    clearTimeout(this.idleTimer);
    this.socket.destroy();
    this.pool.gone(this);
    const answer = this.waiting;
    this.waiting = null;
    answer?.({ ok: false, code });
  }

  close(): void {
    this.fail(CLOSED);
  }
}

/**
 * Keep-alive connections to one origin, one request at a time on each (no
 * pipelining here; see PipelinedReader for that), at most `max` of them; requests
 * beyond wait in the client, and their time counts in what the soak measures.
 */
export class HttpPool {
  private readonly free: PoolConn[] = [];
  private readonly all = new Set<PoolConn>();
  private readonly queue: { bytes: string; timeoutMs: number; answer: (o: Outcome) => void }[] = [];
  private readonly host: string;
  private readonly port: number;
  private readonly hostHeader: string;

  constructor(
    url: string,
    private readonly max: number,
    /** Keep response bodies (writes read their command id); reads keep only the framing. */
    readonly keepBodies = false,
  ) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.hostHeader = `${this.host}:${this.port}`;
  }

  /** Sends one request; never rejects: a request without an answer resolves with the reason. */
  request(
    method: string,
    path: string,
    headers: Readonly<Record<string, string>> = {},
    body?: string,
    timeoutMs = 15_000,
  ): Promise<Outcome> {
    let text = `${method} ${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n`;
    for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
    if (body !== undefined) text += `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    else text += "\r\n";
    return new Promise((answer) => {
      const conn = this.free.pop();
      if (conn !== undefined) conn.send(text, timeoutMs, answer);
      else if (this.all.size < this.max) this.open().send(text, timeoutMs, answer);
      else this.queue.push({ bytes: text, timeoutMs, answer });
    });
  }

  private open(): PoolConn {
    const c = new PoolConn(this, this.host, this.port);
    this.all.add(c);
    return c;
  }

  /** @internal */ idle(c: PoolConn): void {
    const next = this.queue.shift();
    if (next !== undefined) c.send(next.bytes, next.timeoutMs, next.answer);
    else this.free.push(c);
  }

  /** @internal */ gone(c: PoolConn): void {
    this.all.delete(c);
    const i = this.free.indexOf(c);
    if (i >= 0) this.free.splice(i, 1);
    // A waiting request gets the connection's place.
    const next = this.queue.shift();
    if (next !== undefined) this.open().send(next.bytes, next.timeoutMs, next.answer);
  }

  close(): void {
    for (const c of [...this.all]) c.close();
    for (const q of this.queue.splice(0)) q.answer({ ok: false, code: CLOSED });
  }
}
