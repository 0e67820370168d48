import {
  type AdminServer,
  startAdminServer as startAdminPort,
} from "@million-rps/shared/admin-server";
import { Registry } from "prom-client";

/**
 * The read fleet's admin port (shared/src/admin-server.ts): the supervisor's merged
 * metrics, and a `/healthz` that answers while the supervisor does. Bound to
 * 127.0.0.1 unless ADMIN_HOST says otherwise.
 */
export function startAdminServer(
  host: string,
  port: number,
  metrics: () => Promise<string>,
): Promise<AdminServer> {
  return startAdminPort(host, port, { metrics, contentType: Registry.PROMETHEUS_CONTENT_TYPE });
}
