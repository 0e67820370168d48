import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { FramingError, header, type Response1, ResponseParser } from "@million-rps/local";
import type { PaceResult } from "./pace";
import { type Recorder, type Route, UNANSWERED } from "./recorder";

/**
 * Pipelined readers: a few raw sockets, each sent bursts of `depth` GETs in one
 * write (so the server reads them as one pipeline), paced to `perSecond` requests.
 * Every response is framed by hand (status line, headers, Content-Length, body; a
 * 304 has no body) and recorded like any other read. A connection the server
 * closes is recorded with its unanswered requests, then opened again.
 *
 * Only the hot page (`/todos?limit=100`, HOT_PAGES) is pipelined: the read fleet
 * loads it before it listens and never lets it miss, which is what makes pipelining
 * safe with uWS (read-fleet/README.md: a request that must wait for a fill closes
 * a pipelined connection). Variants: identity, `Accept-Encoding: gzip, br`, and
 * `If-None-Match` with the last ETag seen (304, or 200 with the new page).
 */
export interface PipelinedReaderOptions {
  readUrl: string;
  recorder: Recorder;
  connections: number;
  depth: number;
  perSecond: number;
}

export interface PipelineStats {
  connections: number;
  depth: number;
  /** Requests written to a socket. */
  sent: number;
  /** Whole responses framed. */
  answered: number;
  bursts: number;
  /** Requests not sent because no connection was idle (the client's back-pressure). */
  skipped: number;
  /** Connections the server closed or reset while we used them. */
  closedByServer: number;
  /** Requests in flight on those connections: sent, never answered. */
  unanswered: number;
  /** Still unanswered when the readers stopped and the drain ran out. */
  unansweredAtEnd: number;
  /** Responses that broke the framing or were not what was asked for. */
  framingErrors: number;
  connectErrors: number;
  /** Answers saying `Connection: close`. */
  connectionCloseHeaders: number;
  /** The deepest pipeline in flight on one connection. */
  maxOutstanding: number;
}

interface Pending {
  t: number;
  route: Route;
  /** The identity variant: a 200 body must be a JSON array. */
  identity: boolean;
}

const PATH = "/todos?limit=100";

export class PipelinedReader {
  readonly stats: PipelineStats;
  private readonly conns = new Set<Conn>();
  private readonly host: string;
  private readonly port: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private etag: string | null = null;
  private variant = 0;
  private turn = 0;

  constructor(private readonly o: PipelinedReaderOptions) {
    const url = new URL(o.readUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.stats = {
      connections: o.connections,
      depth: o.depth,
      sent: 0,
      answered: 0,
      bursts: 0,
      skipped: 0,
      closedByServer: 0,
      unanswered: 0,
      unansweredAtEnd: 0,
      framingErrors: 0,
      connectErrors: 0,
      connectionCloseHeaders: 0,
      maxOutstanding: 0,
    };
  }

  get inFlight(): number {
    let n = 0;
    for (const c of this.conns) n += c.queue.length;
    return n;
  }

  start(): void {
    this.running = true;
    for (let i = 0; i < this.o.connections; i++) this.open();
    const t0 = Date.now();
    let issued = 0;
    this.timer = setInterval(() => {
      const due = Math.floor(((Date.now() - t0) * this.o.perSecond) / 1000);
      while (due - issued >= this.o.depth) {
        issued += this.o.depth;
        // Round robin over the idle connections: each stays busy, none idles into the server's timeout.
        const conns = [...this.conns];
        let idle: Conn | undefined;
        for (let i = 0; i < conns.length && idle === undefined; i++) {
          const c = conns[(this.turn + i) % conns.length] as Conn;
          if (c.connected && c.queue.length === 0) idle = c;
        }
        this.turn++;
        if (idle === undefined) this.stats.skipped += this.o.depth;
        else this.burst(idle);
      }
    }, 10);
  }

  /** Stops sending, waits up to `drainMs` for the answers in flight, closes the sockets. */
  async stop(drainMs = 5_000): Promise<PaceResult> {
    this.running = false;
    clearInterval(this.timer);
    const deadline = Date.now() + drainMs;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(50);
    this.stats.unansweredAtEnd = this.inFlight;
    // Judged like a close: a request sent and never answered is an answer the soak did not get.
    for (const c of this.conns) {
      for (const p of c.queue) this.o.recorder.record(p.route, p.t, UNANSWERED);
      c.queue.length = 0;
      c.destroy();
    }
    return { started: this.stats.sent, skipped: this.stats.skipped };
  }

  private open(): void {
    if (!this.running) return;
    this.conns.add(new Conn(this, this.host, this.port));
  }

  /** @internal */ reopen(c: Conn): void {
    this.conns.delete(c);
    if (this.running) setTimeout(() => this.open(), 50);
  }

  private burst(c: Conn): void {
    const now = this.o.recorder.now();
    const parts: string[] = [];
    for (let i = 0; i < this.o.depth; i++) {
      const v = this.variant++ % 3;
      let extra = "";
      let route: Route = "GET /todos (pipelined)";
      if (v === 1) extra = "Accept-Encoding: gzip, br\r\n";
      else if (v === 2 && this.etag !== null) {
        extra = `If-None-Match: ${this.etag}\r\n`;
        route = "GET /todos (pipelined, If-None-Match)";
      }
      parts.push(`GET ${PATH} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n${extra}\r\n`);
      c.queue.push({ t: now, route, identity: v !== 1 });
    }
    this.stats.sent += this.o.depth;
    this.stats.bursts++;
    c.lastActivity = now;
    if (c.queue.length > this.stats.maxOutstanding) this.stats.maxOutstanding = c.queue.length;
    c.socket.write(parts.join(""));
  }

  /** @internal */ answered(c: Conn, p: Pending, status: number, etag: string | null): void {
    c.answered++;
    c.lastActivity = this.o.recorder.now();
    this.stats.answered++;
    if (status === 200 && p.identity && etag !== null) this.etag = etag;
    this.o.recorder.record(p.route, p.t, status);
  }

  /** @internal */ closed(c: Conn, byUs: boolean): void {
    if (!byUs && c.connected) {
      this.stats.closedByServer++;
      this.stats.unanswered += c.queue.length;
      this.o.recorder.serverCloses.push({
        t: this.o.recorder.now(),
        unanswered: c.queue.length,
        answered: c.answered,
        idleMs: c.queue.length === 0 ? this.o.recorder.now() - c.lastActivity : 0,
      });
      for (const p of c.queue) this.o.recorder.record(p.route, p.t, UNANSWERED);
    } else if (!byUs) this.stats.connectErrors++;
    c.queue.length = 0;
    this.reopen(c);
  }

  /** @internal */ framingError(c: Conn, detail: string): void {
    this.stats.framingErrors++;
    const first = c.queue.shift();
    if (first !== undefined) this.o.recorder.record(first.route, first.t, `framing: ${detail}`);
    // The rest of the pipeline cannot be framed any more: unanswered.
    this.stats.unanswered += c.queue.length;
    for (const p of c.queue) this.o.recorder.record(p.route, p.t, UNANSWERED);
    c.queue.length = 0;
    c.destroy();
    this.reopen(c);
  }
}

class Conn {
  readonly socket: Socket;
  readonly queue: Pending[] = [];
  connected = false;
  /** Answers framed on this connection, and when it last sent or received. */
  answered = 0;
  lastActivity = 0;
  private byUs = false;
  private readonly parser = new ResponseParser((r) => this.response(r));

  constructor(
    private readonly owner: PipelinedReader,
    host: string,
    port: number,
  ) {
    this.socket = connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.on("connect", () => {
      this.connected = true;
    });
    this.socket.on("data", (chunk: Buffer) => {
      try {
        this.parser.feed(chunk);
      } catch (err) {
        if (!this.byUs) this.owner.framingError(this, (err as Error).message);
      }
    });
    this.socket.on("error", () => {}); // 'close' follows and decides
    this.socket.on("close", () => {
      if (this.byUs) return;
      this.owner.closed(this, false);
    });
  }

  destroy(): void {
    this.byUs = true;
    this.socket.destroy();
  }

  private response(r: Response1): void {
    if (this.byUs) return;
    const p = this.queue.shift();
    if (p === undefined) throw new FramingError("an answer to no request");
    if (header(r.head, "connection")?.toLowerCase() === "close")
      this.owner.stats.connectionCloseHeaders++;
    if (r.status === 200) {
      const encoded = /^(gzip|br)$/.test(header(r.head, "content-encoding") ?? "");
      const wrong = p.identity ? encoded || r.first !== 0x5b || r.last !== 0x5d : !encoded;
      if (wrong) {
        this.queue.unshift(p);
        throw new FramingError(
          `200 body of ${r.bodyLength} B is not the ${p.identity ? "JSON array" : "encoded page"} asked for`,
        );
      }
    }
    this.owner.answered(this, p, r.status, header(r.head, "etag"));
  }
}
