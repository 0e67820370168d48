import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { errorBody } from "@million-rps/shared";

export interface AdminEndpoints {
  /** Prometheus text, and its content type. */
  metrics(): Promise<string>;
  contentType: string;
  /** Liveness: false once the consumer crashed for good. */
  healthy(): boolean;
}

/** /metrics and /healthz on their own port, away from any public listener. */
export async function startAdminServer(
  host: string,
  port: number,
  endpoints: AdminEndpoints,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "application/json", allow: "GET, HEAD" });
      res.end(errorBody("method_not_allowed", "use GET"));
    } else if (path === "/metrics") {
      endpoints.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": endpoints.contentType });
          res.end(req.method === "HEAD" ? undefined : text);
        },
        () => {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(errorBody("internal", "metrics failed"));
        },
      );
    } else if (path === "/healthz") {
      const ok = endpoints.healthy();
      res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
      res.end(req.method === "HEAD" ? undefined : JSON.stringify({ status: ok ? "ok" : "failed" }));
    } else {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(errorBody("not_found", "no such path"));
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
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
