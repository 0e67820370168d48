import { connect, type Socket } from "node:net";

/**
 * HTTP/1.1 over a raw socket, for what fetch cannot send: garbage bytes,
 * pipelined floods, a client that never finishes its request, a reset mid-stream.
 */

export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

export interface RawExchange {
  responses: RawResponse[];
  /** The server closed (or reset) the connection before we gave up waiting. */
  closedByServer: boolean;
  error?: string;
  ms: number;
  /** Bytes received that do not parse as complete responses (a truncated tail). */
  leftover: number;
}

export interface RawOptions {
  /** Give up (and close ourselves) after this long. */
  waitMs: number;
  /** Stop (close ourselves) once this many responses have arrived. */
  expectResponses?: number;
  /** Keeps writing `bytes` every `everyMs` after the payload: the slowloris. */
  trickle?: { bytes: string; everyMs: number };
}

/** Splits a byte stream into complete responses (Content-Length or chunked bodies). */
export function parseResponses(data: Buffer): { responses: RawResponse[]; rest: number } {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf("\r\n\r\n", at);
    if (end < 0) break;
    const head = data.toString("latin1", at, end);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
    if (!Number.isInteger(status)) break;
    let bodyStart = end + 4;
    let body = "";
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      // Enough for the small error bodies servers send this way.
      const last = data.indexOf("0\r\n\r\n", bodyStart);
      if (last < 0) break;
      body = data.toString("utf8", bodyStart, last);
      bodyStart = last + 5;
    } else if (length !== undefined && status !== 304 && status !== 204) {
      const n = Number(length);
      if (data.length < bodyStart + n) break;
      body = data.toString("utf8", bodyStart, bodyStart + n);
      bodyStart += n;
    }
    responses.push({ status, head, body });
    at = bodyStart;
  }
  return { responses, rest: data.length - at };
}

/** Connects, writes `payload`, and collects what comes back until close, enough responses, or `waitMs`. */
export function rawExchange(
  port: number,
  payload: string | Buffer,
  options: RawOptions,
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const chunks: Buffer[] = [];
    // Status lines seen so far, counted incrementally (a flood can bring tens of MB).
    let statusLines = 0;
    let tail = "";
    let closedByServer = false;
    let error: string | undefined;
    let settled = false;
    let trickle: NodeJS.Timeout | undefined;
    const socket: Socket = connect(port, "127.0.0.1");
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(trickle);
      socket.destroy();
      const { responses, rest } = parseResponses(Buffer.concat(chunks));
      resolve({
        responses,
        closedByServer,
        ...(error && { error }),
        ms: Date.now() - t0,
        leftover: rest,
      });
    };
    const timer = setTimeout(finish, options.waitMs);
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      if (options.expectResponses === undefined) return;
      const text = tail + d.toString("latin1");
      statusLines += text.match(/HTTP\/1\.[01] \d{3} /g)?.length ?? 0;
      tail = text.slice(-12); // shorter than a status line: never counted twice
      // Parse only once every status line is in: the last body may still be arriving.
      if (
        statusLines >= options.expectResponses &&
        parseResponses(Buffer.concat(chunks)).responses.length >= options.expectResponses
      )
        finish();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
      closedByServer = true;
      finish();
    });
    socket.on("end", () => {
      closedByServer = true;
      finish();
    });
    socket.on("close", () => {
      if (!settled) closedByServer = true;
      finish();
    });
    socket.on("connect", () => {
      socket.write(payload);
      const t = options.trickle;
      if (t !== undefined) trickle = setInterval(() => socket.write(t.bytes), t.everyMs);
    });
  });
}

/** Writes `payload` and resets the connection (RST) right away, while responses are still being written. */
export function resetMidStream(port: number, payload: string, afterMs = 2): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => resolve());
    socket.on("connect", () => {
      socket.write(payload);
      setTimeout(() => {
        socket.resetAndDestroy();
        resolve();
      }, afterMs);
    });
  });
}

/** A raw response as fetch would show it, for the contract checker. */
export function observed(r: RawResponse): { status: number; headers: Headers; body: string } {
  const headers = new Headers();
  for (const line of r.head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status: r.status, headers, body: r.body };
}
