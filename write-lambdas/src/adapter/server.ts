import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { errorBody } from "@million-rps/shared";
import type { Env } from "@million-rps/shared/config";
import type { Logger } from "@million-rps/shared/log";
import { createLogger } from "@million-rps/shared/pino-logger";
import { parseWriteConfig } from "../config";
import { createWriteRuntime, type RuntimeOptions, type WriteRuntime } from "../runtime";
import { apiGatewayEvent, matchRoute, type RouteMatch } from "./api-gateway-event";
import { answerClientError, readBody, sendJson, tooLarge } from "./http-io";

/** Like API Gateway's own payload cap, only smaller: past it the adapter answers 413 without buffering. */
export const ADAPTER_BODY_MAX = 1024 * 1024;

export interface WriteServerOptions extends Partial<RuntimeOptions> {
  /** Environment for the write runtime (defaults to process.env). */
  env?: Env;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** A request (headers and body) must arrive within this, else 408 and close. */
  requestTimeoutMs?: number;
}

export interface WriteServer {
  readonly url: string;
  readonly port: number;
  readonly runtime: WriteRuntime;
  /** Stops accepting, lets in-flight writes finish (bounded), then disconnects the producer. */
  close(): Promise<void>;
}

/** Requests being handled, bounded by WRITE_MAX_IN_FLIGHT. */
interface InFlight {
  count: number;
}

async function serve(
  runtime: WriteRuntime,
  log: Logger,
  inFlight: InFlight,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = req.method ?? "GET";
  const url = req.url ?? "/";
  const path = url.split("?", 1)[0] ?? "/";
  if (req.headers.host === undefined && req.httpVersion !== "1.0") {
    req.resume();
    return sendJson(res, 400, errorBody("bad_request", "the Host header is required"));
  }
  if (path === "/healthz") {
    // Local only (API Gateway has no such route): liveness for npm start and compose.
    req.resume();
    if (method === "GET" || method === "HEAD") return sendJson(res, 200, '{"status":"ok"}'); // no body for HEAD
    return sendJson(res, 405, errorBody("method_not_allowed", `${method} is not allowed here`), {
      Allow: "GET, HEAD",
    });
  }
  const route = matchRoute(method, path);
  if (!route.found) {
    req.resume();
    if (route.status === 404) sendJson(res, 404, errorBody("not_found", "no such route"));
    else
      sendJson(res, 405, errorBody("method_not_allowed", `${method} is not allowed here`), {
        Allow: route.allow,
      });
    return;
  }
  if (Number(req.headers["content-length"] ?? 0) > ADAPTER_BODY_MAX) return tooLarge(res);
  if (inFlight.count >= runtime.config.maxInFlight) {
    // Past the limit every write would wait behind the others and miss its deadline
    // anyway; refusing at once keeps the accepted ones fast and says so.
    req.resume();
    return sendJson(
      res,
      503,
      errorBody(
        "overloaded",
        "too many writes in flight; retry later with the same Idempotency-Key",
      ),
      { "Retry-After": String(runtime.config.retryAfterSec), "Cache-Control": "no-store" },
    );
  }
  inFlight.count++;
  try {
    await answerWrite(runtime, log, req, res, route);
  } finally {
    inFlight.count--;
  }
}

/** Reads the body, builds the payload v2 event, runs the route's handler and sends its answer. */
async function answerWrite(
  runtime: WriteRuntime,
  log: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  route: Extract<RouteMatch, { found: true }>,
): Promise<void> {
  const method = req.method ?? "GET";
  const url = req.url ?? "/";
  const body = await readBody(req, ADAPTER_BODY_MAX).catch(() => undefined);
  if (body === undefined) return; // the client went away or timed out; node has answered it
  if (body === null) return tooLarge(res);
  const event = apiGatewayEvent(
    {
      method,
      url,
      rawHeaders: req.rawHeaders,
      body,
      sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
      protocol: `HTTP/${req.httpVersion}`,
    },
    route,
  );
  const result = await runtime.handlers[route.kind](event);
  if (res.destroyed) return;
  log.debug("request", { method, path: url.split("?", 1)[0], status: result.statusCode });
  sendJson(res, result.statusCode, result.body, result.headers);
}

/**
 * The local stand-in for API Gateway: real HTTP in, payload v2 events to the
 * same handlers the Lambdas run, their results back out.
 */
export async function startWriteServer(options: WriteServerOptions): Promise<WriteServer> {
  const config = parseWriteConfig(options.env ?? process.env);
  // The same handlers as on Lambda, logging through pino instead of Powertools.
  const log = options.log ?? createLogger("write-http", { level: config.logLevel });
  const runtime = createWriteRuntime(config, {
    log,
    ...(options.sender && { sender: options.sender }),
    ...(options.idempotencyStore && { idempotencyStore: options.idempotencyStore }),
    ...(options.fetchSecret && { fetchSecret: options.fetchSecret }),
  });
  const requestTimeout = options.requestTimeoutMs ?? 15_000;
  // A slow client that never finishes its request is cut off instead of holding a socket forever.
  const limits = {
    requestTimeout,
    headersTimeout: Math.min(10_000, requestTimeout),
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: Math.min(1_000, requestTimeout),
    // Node would answer a missing Host with an empty 400; serve() answers it in JSON.
    requireHostHeader: false,
  };
  const inFlight: InFlight = { count: 0 };
  const server = createServer(limits, function onRequest(req, res) {
    serve(runtime, log, inFlight, req, res).catch((err: unknown) => {
      log.error("adapter failed", { err });
      if (!res.headersSent) sendJson(res, 500, errorBody("internal", "internal error"));
      else res.destroy();
    });
  });
  server.on("clientError", answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  // A long-lived process, unlike a Lambda: connect to Kafka now, not on the first write.
  runtime.sender.prepare?.();
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? "127.0.0.1";
  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    port,
    runtime,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // In-flight writes get the Kafka timeout to finish; then the stragglers are cut.
      const grace = setTimeout(
        () => server.closeAllConnections(),
        runtime.config.sendTimeoutMs + 1000,
      );
      await closed;
      clearTimeout(grace);
      await runtime.close();
    },
  };
}
