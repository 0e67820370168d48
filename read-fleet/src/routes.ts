import type { HttpRequest, HttpResponse, TemplatedApp } from "uWebSockets.js";
import { commandRoute } from "./command-route";
import {
  ROUTE_COMMAND,
  ROUTE_HEALTH,
  ROUTE_OTHER,
  ROUTE_TODO,
  ROUTE_TODOS,
  type RouteIndex,
} from "./fleet-metrics";
import { INTERNAL, METHOD_NOT_ALLOWED, NOT_FOUND_ROUTE } from "./http-errors";
import { itemRoute } from "./item-route";
import { pageRoute } from "./page-route";
import type { ReadService } from "./read-service";
import { Responder } from "./responder";

type Handler = (res: HttpResponse, req: HttpRequest, head: boolean) => void;

/** Wires the read API onto a uWS app: GET and HEAD per path, 405 for other methods, JSON 404. */
export function registerRoutes(app: TemplatedApp, service: ReadService, openapi: Buffer): void {
  const respond = new Responder(service);
  const log = service.deps.log;

  const healthz: Handler = (res, _req, head) =>
    respond.json(res, 200, '{"status":"ok"}', ROUTE_HEALTH, head);
  const readyz: Handler = (res, _req, head) => {
    const ready = service.ready();
    const body = JSON.stringify({
      status: ready ? "ready" : "not_ready",
      generation: service.generation,
    });
    respond.json(res, ready ? 200 : 503, body, ROUTE_HEALTH, head);
  };

  // The API's own contract (shared/openapi.yaml), byte for byte.
  const document: Handler = (res, _req, head) =>
    respond.document(res, openapi, "application/yaml; charset=utf-8", ROUTE_OTHER, head);

  // A bug in a handler answers 500 instead of leaving the request (and uWS) hanging.
  const guarded = (route: RouteIndex, handler: Handler, head: boolean) =>
    function route_(res: HttpResponse, req: HttpRequest): void {
      try {
        handler(res, req, head);
      } catch (err) {
        log.error("request handler failed", { err });
        try {
          respond.fail(res, INTERNAL, route, head);
        } catch {
          // Already answered (or aborted): nothing more to say on this response.
        }
      }
    };

  const readOnly: [string, RouteIndex, Handler][] = [
    ["/todos", ROUTE_TODOS, pageRoute(service, respond)],
    ["/todos/:id", ROUTE_TODO, itemRoute(service, respond)],
    ["/commands/:id", ROUTE_COMMAND, commandRoute(service, respond)],
    ["/healthz", ROUTE_HEALTH, healthz],
    ["/readyz", ROUTE_HEALTH, readyz],
    ["/openapi.yaml", ROUTE_OTHER, document],
  ];
  for (const [path, route, handler] of readOnly) {
    app.get(path, guarded(route, handler, false));
    app.head(path, guarded(route, handler, true));
    app.any(path, (res, req) =>
      respond.fail(res, METHOD_NOT_ALLOWED, route, req.getMethod() === "head"),
    );
  }
  app.any("/*", (res, req) =>
    respond.fail(res, NOT_FOUND_ROUTE, ROUTE_OTHER, req.getMethod() === "head"),
  );
}
