import type { HttpResponse } from "uWebSockets.js";
import { errorBody, type HttpError } from "@million-rps/shared";
import type { Variant } from "./representation";

/**
 * The writers of one response's bytes (status line, headers, body) onto a uWS
 * response, for the uWS build we can install (uWS.js 20.30). Every function here
 * must run inside `res.cork`; `Responder` (responder.ts) decides which to call,
 * when, and counts the response.
 *
 * Why every response gets an abort handler, even one answered synchronously: in
 * this build `AsyncSocket::uncork(src)` returns "0 written" WITHOUT writing `src`
 * when flushing the cork buffer fails. A body larger than the free cork buffer
 * (16 KB) goes through that path, so when the socket cannot take the corked
 * headers (peer reset it, e.g. wrk closing pipelined connections) `end()` leaves
 * the response pending, and uWS calls std::terminate() for a pending response
 * without an abort handler ("Returning from a request handler without responding
 * or attaching an abort handler is forbidden!"). With the handler, uWS closes that
 * (already dead) connection instead. Upstream later changed the check to
 * `if (failed && optionally)`. See read-fleet/README.md.
 */
export function noop(): void {}

const STATUS_LINES: Record<number, string> = {
  200: "200 OK",
  304: "304 Not Modified",
  400: "400 Bad Request",
  404: "404 Not Found",
  405: "405 Method Not Allowed",
  500: "500 Internal Server Error",
  503: "503 Service Unavailable",
};

/** 200 with prebuilt bytes. HEAD: same headers and Content-Length, no body. */
export function writeVariant(res: HttpResponse, v: Variant, head: boolean, close: boolean): void {
  if (head) {
    // endWithoutBody(length) leaves the response pending in this build: write the length ourselves.
    res.writeStatus(
      Buffer.concat([v.head200, Buffer.from(`\r\nContent-Length: ${v.body.length}`)]),
    );
    res.endWithoutBody();
  } else {
    res.writeStatus(v.head200).end(v.body, close);
  }
}

export function writeNotModified(res: HttpResponse, v: Variant): void {
  res.writeStatus(v.wire.head304).endWithoutBody();
}

/** A body built or read off the hot path (pending commands, health, errors, the OpenAPI file). */
export function writeBody(
  res: HttpResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  head: boolean,
  close: boolean,
  headers: Readonly<Record<string, string>> = {},
): void {
  let block = `${STATUS_LINES[status] ?? String(status)}\r\nContent-Type: ${contentType}`;
  for (const [name, value] of Object.entries(headers)) block += `\r\n${name}: ${value}`;
  if (head) {
    res.writeStatus(`${block}\r\nContent-Length: ${Buffer.byteLength(body)}`).endWithoutBody();
  } else {
    res.writeStatus(block).end(body, close);
  }
}

/** A JSON body built per request (the slow paths: pending commands, health, errors). */
export function writeJson(
  res: HttpResponse,
  status: number,
  json: string,
  head: boolean,
  close: boolean,
  headers: Readonly<Record<string, string>> = {},
): void {
  writeBody(res, status, "application/json", json, head, close, headers);
}

export function writeError(res: HttpResponse, err: HttpError, head: boolean, close: boolean): void {
  writeJson(res, err.status, errorBody(err.code, err.message), head, close, {
    "Cache-Control": "no-store",
    ...err.headers,
  });
}
