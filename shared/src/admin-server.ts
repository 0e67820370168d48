/**
 * The containers' admin port (read fleet, worker): Prometheus `/metrics` and a
 * liveness `/healthz`, never on the public port. Everything else is answered with
 * the project's error body, `{"error":{"code","message"}}`. Imported as
 * `@million-rps/shared/admin-server`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { errorBody } from "./errors";

/** What a deployable serves on its admin port. */
export interface AdminEndpoints {
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
  /** Its content type (prom-client's `registry.contentType`). */
  readonly contentType: string;
  /** Liveness: false answers 503 (the worker once its consumer crashed for good). Absent: alive. */
  healthy?(): boolean;
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

const JSON_TYPE = "application/json";

/** Listens on `host:port` (0: any free port, see `port` of the result). */
export async function startAdminServer(
  host: string,
  port: number,
  endpoints: AdminEndpoints,
): Promise<AdminServer> {
  const server = createServer(function answerAdmin(req, res) {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendError(res, 405, "method_not_allowed", "use GET or HEAD", { allow: "GET, HEAD" });
    } else if (path === "/metrics") {
      sendMetrics(req, res, endpoints);
    } else if (path === "/healthz") {
      const ok = endpoints.healthy?.() ?? true;
      res.writeHead(ok ? 200 : 503, { "content-type": JSON_TYPE });
      res.end(JSON.stringify({ status: ok ? "ok" : "failed" }));
    } else {
      sendError(res, 404, "not_found", "no such path");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        // Stop accepting first, then drop the kept-alive connections (a scraper's).
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function sendMetrics(req: IncomingMessage, res: ServerResponse, endpoints: AdminEndpoints): void {
  endpoints.metrics().then(
    (text) => {
      res.writeHead(200, { "content-type": endpoints.contentType });
      res.end(req.method === "HEAD" ? undefined : text);
    },
    () => sendError(res, 500, "internal", "metrics failed"),
  );
}

// Node sends no body in answer to HEAD, whatever `end` is given.
function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": JSON_TYPE, ...headers });
  res.end(errorBody(code, message));
}
