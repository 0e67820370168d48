import { connect, type Socket } from "node:net";
import { header, type Response1, ResponseParser } from "@million-rps/local";

/**
 * A small HTTP/1.1 client on raw sockets, for load the soak's own process can
 * afford: on this 2-core box `fetch` costs ~250 µs of client CPU per 21 KB read,
 * node:http ~60 µs, this ~20 µs. It frames every response itself
 * (local/src/http1-framing.ts) and fails a request whose answer cannot be framed.
 */

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
