import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The admin port: Prometheus `/metrics` and a liveness `/healthz`, never on the
 * public port (bound to 127.0.0.1 unless ADMIN_HOST says otherwise).
 */
export async function startAdminServer(
  host: string,
  port: number,
  metrics: () => Promise<string>,
): Promise<AdminServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
    } else if (path === "/metrics") {
      metrics().then(
        (text) => {
          res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
          res.end(req.method === "HEAD" ? undefined : text);
        },
        () => res.writeHead(500).end(),
      );
    } else if (path === "/healthz") {
      res.writeHead(200, { "Content-Type": "application/json" }).end('{"status":"ok"}');
    } else {
      res.writeHead(404, { "Content-Type": "application/json" }).end('{"error":"not found"}');
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
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
