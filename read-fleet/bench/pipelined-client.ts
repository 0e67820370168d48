import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { FramingError, header, type Response1, ResponseParser } from "@million-rps/local";

/**
 * A pipelining HTTP/1.1 client that checks what wrk does not: it parses every
 * response (status line, headers, Content-Length framing, body length:
 * local/src/http1-framing.ts), keeps
 * `depth` requests in flight on each connection, and counts the connections the
 * server closed and the requests that were never answered. A closed connection is
 * opened again (as a client would retry), so one close does not end the run.
 */
export interface PipelineClientOptions {
  host: string;
  port: number;
  path: string;
  connections: number;
  depth: number;
  seconds: number;
  /** Retry refused connections until the server listens (a cold start); the window starts at the first connection. */
  waitForListen?: { timeoutMs: number };
  /** At the end: stop sending and wait this long for the answers in flight. */
  drainMs?: number;
  /** A 200 body must look like a JSON array (first byte `[`, last `]`). */
  expectJsonArray?: boolean;
}

export interface PipelineAnomaly {
  /** ms since the window started (negative: before it). */
  atMs: number;
  kind: "closed" | "framing" | "connect" | "non-200";
  detail: string;
}

export interface PipelineClientResult {
  seconds: number;
  connections: number;
  depth: number;
  sent: number;
  answered: number;
  rps: number;
  /** Answers other than 200, by status. */
  non200: Record<string, number>;
  /** Connections the server closed (or reset) while we still used them. */
  closedByServer: number;
  /** Requests in flight on a connection when the server closed it: sent, never answered. */
  unanswered: number;
  /** Requests still unanswered after the drain at the end (the server stopped answering). */
  unansweredAtEnd: number;
  /** Responses the parser could not frame (bad status line, no Content-Length, chunked, not a JSON array). */
  framingErrors: number;
  /** Failed connection attempts after the window started. */
  connectErrors: number;
  reconnects: number;
  /** Answers that said `Connection: close`. */
  connectionCloseHeaders: number;
  /** Cold start: ms from start() to the first accepted connection. */
  firstConnectMs: number | null;
  p50Ms: number;
  p99Ms: number;
  bodyBytes: { min: number; max: number };
  /** The first anomalies, with when they happened. */
  anomalies: PipelineAnomaly[];
}

const MAX_ANOMALIES = 20;

export async function runPipelinedClient(o: PipelineClientOptions): Promise<PipelineClientResult> {
  const request = Buffer.from(`GET ${o.path} HTTP/1.1\r\nHost: ${o.host}:${o.port}\r\n\r\n`);
  const burst = Buffer.concat(Array.from({ length: o.depth }, () => request));
  const r: PipelineClientResult = {
    seconds: 0,
    connections: o.connections,
    depth: o.depth,
    sent: 0,
    answered: 0,
    rps: 0,
    non200: {},
    closedByServer: 0,
    unanswered: 0,
    unansweredAtEnd: 0,
    framingErrors: 0,
    connectErrors: 0,
    reconnects: 0,
    connectionCloseHeaders: 0,
    firstConnectMs: null,
    p50Ms: Number.NaN,
    p99Ms: Number.NaN,
    bodyBytes: { min: Number.POSITIVE_INFINITY, max: 0 },
    anomalies: [],
  };
  const latencies: number[] = [];
  const t0 = performance.now();
  let windowStart: number | null = null;
  let sending = true;
  const since = () => Math.round(performance.now() - (windowStart ?? t0));
  const note = (kind: PipelineAnomaly["kind"], detail: string) => {
    if (r.anomalies.length < MAX_ANOMALIES) r.anomalies.push({ atMs: since(), kind, detail });
  };
  let firstConnected: () => void = () => {};
  const connectedOnce = new Promise<void>((resolve) => {
    firstConnected = resolve;
  });
  const conns = new Set<Connection>();
  let drained: (() => void) | null = null;
  const outstandingTotal = () => {
    let n = 0;
    for (const c of conns) n += c.outstanding;
    return n;
  };

  class Connection {
    socket: Socket;
    outstanding = 0;
    ever = false;
    private ours = false;
    /** When the attempt began: one begun before the window and refused is still "not listening yet". */
    private readonly startedAt = performance.now();
    private readonly sentAt: number[] = [];
    private readonly parser = new ResponseParser((res) => this.complete(res));
    /** Responses completed in the current read: as many requests follow. */
    private answeredInRead = 0;

    constructor() {
      conns.add(this);
      this.socket = connect({ host: o.host, port: o.port });
      this.socket.setNoDelay(true);
      this.socket.on("connect", () => {
        this.ever = true;
        if (r.firstConnectMs === null) {
          r.firstConnectMs = Math.round(performance.now() - t0);
          firstConnected();
        }
        this.send(o.depth);
      });
      this.socket.on("data", (chunk: Buffer) => this.data(chunk));
      this.socket.on("error", () => {}); // 'close' follows and decides
      this.socket.on("close", () => this.closed());
    }

    destroy() {
      this.ours = true;
      this.socket.destroy();
    }

    private send(n: number) {
      if (n <= 0 || !sending) return;
      const now = performance.now();
      for (let i = 0; i < n; i++) this.sentAt.push(now);
      this.outstanding += n;
      r.sent += n;
      this.socket.write(n === o.depth ? burst : burst.subarray(0, n * request.length));
    }

    private closed() {
      conns.delete(this);
      if (!this.ours) {
        if (this.ever) {
          r.closedByServer++;
          r.unanswered += this.outstanding;
          note(
            "closed",
            `server closed a connection with ${this.outstanding} request(s) unanswered${this.parser.midResponse ? " (inside a response)" : ""}`,
          );
        } else if (
          o.waitForListen !== undefined &&
          (windowStart === null || this.startedAt < windowStart)
        ) {
          // Not listening yet when this attempt began (the window had not started, or
          // another connection started it while this one's refusal was on its way): again.
          if (performance.now() - t0 < o.waitForListen.timeoutMs) {
            setTimeout(() => new Connection(), 2);
            return;
          }
        } else {
          r.connectErrors++;
          note("connect", "connection attempt failed");
        }
        if (sending) {
          r.reconnects++;
          setImmediate(() => new Connection());
        }
      }
      if (!sending && outstandingTotal() === 0) drained?.();
    }

    private data(chunk: Buffer) {
      this.answeredInRead = 0;
      try {
        this.parser.feed(chunk);
      } catch (err) {
        if (!(err instanceof FramingError)) throw err;
        return this.framing(err.message);
      }
      const answered = this.answeredInRead;
      if (answered > 0) this.send(Math.min(answered, o.depth - this.outstanding));
      if (!sending && outstandingTotal() === 0) drained?.();
    }

    /** One whole response; throws FramingError when it answers no request. */
    private complete(res: Response1): void {
      const sentAt = this.sentAt.shift();
      if (sentAt === undefined)
        throw new FramingError(`an answer to no request (status ${res.status})`);
      this.outstanding--;
      this.answeredInRead++;
      r.answered++;
      latencies.push(performance.now() - sentAt);
      if (header(res.head, "connection")?.toLowerCase() === "close") r.connectionCloseHeaders++;
      if (res.status !== 200) {
        r.non200[String(res.status)] = (r.non200[String(res.status)] ?? 0) + 1;
        note("non-200", `status ${res.status}`);
        return;
      }
      if (res.bodyLength < r.bodyBytes.min) r.bodyBytes.min = res.bodyLength;
      if (res.bodyLength > r.bodyBytes.max) r.bodyBytes.max = res.bodyLength;
      if (o.expectJsonArray && (res.first !== 0x5b || res.last !== 0x5d)) {
        r.framingErrors++;
        note("framing", `200 body of ${res.bodyLength} B is not a JSON array`);
      }
    }

    /** Unframeable: count it, and drop the connection (its outstanding requests count as unanswered). */
    private framing(detail: string) {
      r.framingErrors++;
      note("framing", detail);
      r.unanswered += this.outstanding;
      this.outstanding = 0;
      this.destroy();
      conns.delete(this);
      if (sending) {
        r.reconnects++;
        setImmediate(() => new Connection());
      }
    }
  }

  for (let i = 0; i < o.connections; i++) new Connection();
  if (o.waitForListen !== undefined) {
    await Promise.race([connectedOnce, sleep(o.waitForListen.timeoutMs)]);
    if (r.firstConnectMs === null) {
      sending = false;
      for (const c of conns) c.destroy();
      throw new Error(
        `nothing listened on ${o.host}:${o.port} within ${o.waitForListen.timeoutMs} ms`,
      );
    }
  }
  windowStart = performance.now();
  const answeredAtStart = r.answered;
  await sleep(o.seconds * 1000);
  sending = false;
  const windowSeconds = (performance.now() - windowStart) / 1000;
  const answeredInWindow = r.answered - answeredAtStart;
  if (outstandingTotal() > 0) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, o.drainMs ?? 5_000);
      drained = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
  r.unansweredAtEnd = outstandingTotal();
  for (const c of [...conns]) c.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies.length === 0
      ? Number.NaN
      : (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] as number);
  r.seconds = windowSeconds;
  r.rps = answeredInWindow / windowSeconds;
  r.p50Ms = q(0.5);
  r.p99Ms = q(0.99);
  if (!Number.isFinite(r.bodyBytes.min)) r.bodyBytes.min = 0;
  return r;
}

/** Zero closed, zero unanswered, every answer 200 and framed. */
export function pipelineClean(r: PipelineClientResult): boolean {
  return (
    r.closedByServer === 0 &&
    r.unanswered === 0 &&
    r.unansweredAtEnd === 0 &&
    r.framingErrors === 0 &&
    r.connectErrors === 0 &&
    Object.keys(r.non200).length === 0
  );
}
