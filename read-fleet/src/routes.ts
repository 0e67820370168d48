import type { HttpRequest, HttpResponse, TemplatedApp } from "uWebSockets.js";
import { HttpError, isUuid, pendingCommandJson } from "@million-rps/shared";
import {
  L1_HIT,
  L1_MISS,
  L1_STALE,
  ROUTE_COMMAND,
  ROUTE_HEALTH,
  ROUTE_OTHER,
  ROUTE_TODO,
  ROUTE_TODOS,
  type RouteIndex,
} from "./fleet-metrics";
import type { Slot } from "./l1-cache";
import { ifNoneMatchMatches } from "./negotiation";
import { parsePageQuery } from "./page-query";
import type { ItemEntry, ReadService } from "./read-service";
import type { Representation, Variant } from "./representation";
import { noop, writeError, writeJson, writeNotModified, writeVariant } from "./respond";

/** What a deferred answer needs from the request: `req` is gone after the handler returns. */
interface Deferred {
  aborted: boolean;
  settled: boolean;
  acceptEncoding: string;
  ifNoneMatch: string;
  head: boolean;
}

const NOT_FOUND_ROUTE = new HttpError(404, "not_found", "no such resource");
const NO_SUCH_TODO = new HttpError(404, "not_found", "no todo with this id");
const BAD_TODO_ID = new HttpError(400, "bad_request", "todo id must be a lower-case UUID");
const BAD_COMMAND_ID = new HttpError(400, "bad_request", "command id must be a lower-case UUID");
const UNAVAILABLE = new HttpError(
  503,
  "unavailable",
  "the data store is unavailable and nothing cached can answer; retry shortly",
  { "Retry-After": "1" },
);
const METHOD_NOT_ALLOWED = new HttpError(405, "method_not_allowed", "only GET and HEAD here", {
  Allow: "GET, HEAD",
});
const INTERNAL = new HttpError(500, "internal", "internal error");
const NOT_FOUND_ENTRY: ItemEntry = { rep: null, bytes: 64 };
// Header names as bytes: uWS reads a Buffer key in place; a string key is UTF-8 encoded per call.
const ACCEPT_ENCODING = Buffer.from("accept-encoding");
const IF_NONE_MATCH = Buffer.from("if-none-match");

export function registerRoutes(app: TemplatedApp, service: ReadService): void {
  const { pages, items, metrics, filler } = service;
  const log = service.deps.log;

  // Arguments for the corked writers below, set right before the synchronous res.cork call:
  // no closure is allocated per request on the hot path.
  let corkRes: HttpResponse;
  let corkVariant: Variant;
  let corkHead = false;
  const cork200 = () => writeVariant(corkRes, corkVariant, corkHead, service.draining);
  const cork304 = () => writeNotModified(corkRes, corkVariant);

  /** The warm hit: prebuilt bytes, no await, no allocation beyond uWS's own. */
  function serveNow(
    res: HttpResponse,
    req: HttpRequest,
    rep: Representation,
    route: RouteIndex,
    head: boolean,
  ): void {
    const variant = rep.variants[service.negotiate(req.getHeader(ACCEPT_ENCODING))];
    const inm = req.getHeader(IF_NONE_MATCH);
    res.onAborted(noop); // see respond.ts: keeps a dropped write from terminating the process
    corkRes = res;
    corkVariant = variant;
    corkHead = head;
    if (inm !== "" && ifNoneMatchMatches(inm, variant.etag)) {
      res.cork(cork304);
      metrics.response(route, 304);
    } else {
      res.cork(cork200);
      metrics.response(route, 200);
    }
  }

  function defer(res: HttpResponse, req: HttpRequest, head: boolean): Deferred {
    service.pending++;
    const d: Deferred = {
      aborted: false,
      settled: false,
      acceptEncoding: req.getHeader(ACCEPT_ENCODING),
      ifNoneMatch: req.getHeader(IF_NONE_MATCH),
      head,
    };
    res.onAborted(() => {
      d.aborted = true;
      settle(d);
    });
    return d;
  }

  /** Counts a deferred answer out of `service.pending` exactly once (graceful shutdown waits on it). */
  function settle(d: Deferred): void {
    if (d.settled) return;
    d.settled = true;
    service.pending--;
  }

  function serveLater(res: HttpResponse, d: Deferred, rep: Representation, route: RouteIndex) {
    settle(d);
    if (d.aborted) return;
    const variant = rep.variants[service.negotiate(d.acceptEncoding)];
    const notModified = d.ifNoneMatch !== "" && ifNoneMatchMatches(d.ifNoneMatch, variant.etag);
    res.cork(() => {
      if (notModified) writeNotModified(res, variant);
      else writeVariant(res, variant, d.head, service.draining);
    });
    metrics.response(route, notModified ? 304 : 200);
  }

  function fail(res: HttpResponse, err: HttpError, route: RouteIndex, head: boolean): void {
    res.onAborted(noop);
    res.cork(() => writeError(res, err, head, service.draining));
    metrics.response(route, err.status);
  }

  function failLater(res: HttpResponse, d: Deferred, err: HttpError, route: RouteIndex) {
    settle(d);
    if (d.aborted) return;
    res.cork(() => writeError(res, err, d.head, service.draining));
    metrics.response(route, err.status);
  }

  // ---- GET /todos ----------------------------------------------------------------------------
  function todos(res: HttpResponse, req: HttpRequest, head: boolean): void {
    const rawQuery = req.getQuery() ?? "";
    const slot = pages.get(rawQuery);
    if (slot !== undefined && slot.freshUntil > service.now) {
      metrics.cache(L1_HIT);
      serveNow(res, req, slot.value, ROUTE_TODOS, head);
      return;
    }
    todosMiss(res, req, rawQuery, slot, head);
  }

  const refreshing = new Set<string>();
  function todosMiss(
    res: HttpResponse,
    req: HttpRequest,
    rawQuery: string,
    expired: Slot<Representation> | undefined,
    head: boolean,
  ): void {
    let query: ReturnType<typeof parsePageQuery>;
    try {
      query = parsePageQuery(rawQuery);
    } catch (err) {
      fail(res, err as HttpError, ROUTE_TODOS, head);
      return;
    }
    const generation = pages.generation;
    const epoch = pages.epoch;
    const store = (rep: Representation) => {
      pages.set(rawQuery, rep, service.now + service.ttlMs, epoch);
      return rep;
    };
    if (expired !== undefined) {
      // Past its TTL (pub/sub and polling may both have failed): serve it, refresh behind it.
      metrics.cache(L1_STALE);
      metrics.staleServed.inc({ reason: "refreshing" });
      serveNow(res, req, expired.value, ROUTE_TODOS, head);
      if (!refreshing.has(rawQuery)) {
        refreshing.add(rawQuery);
        filler
          .page(generation, query)
          .then(store, () => {})
          .finally(() => refreshing.delete(rawQuery));
      }
      return;
    }
    metrics.cache(L1_MISS);
    const d = defer(res, req, head);
    filler
      .page(generation, query)
      .then(store)
      .then(
        (rep) => serveLater(res, d, rep, ROUTE_TODOS),
        (err: unknown) => {
          const stale = pages.getStale(rawQuery);
          if (stale !== undefined) {
            metrics.staleServed.inc({ reason: "error" });
            serveLater(res, d, stale.value, ROUTE_TODOS);
          } else {
            log.warn("page fill failed with nothing cached to serve", { err });
            failLater(res, d, UNAVAILABLE, ROUTE_TODOS);
          }
        },
      );
  }

  // ---- GET /todos/:id ------------------------------------------------------------------------
  function todo(res: HttpResponse, req: HttpRequest, head: boolean): void {
    const id = req.getParameter(0);
    const slot = items.get(id);
    if (slot !== undefined && slot.freshUntil > service.now) {
      metrics.cache(L1_HIT);
      if (slot.value.rep === null) fail(res, NO_SUCH_TODO, ROUTE_TODO, head);
      else serveNow(res, req, slot.value.rep, ROUTE_TODO, head);
      return;
    }
    if (!isUuid(id)) {
      fail(res, id === "" ? NOT_FOUND_ROUTE : BAD_TODO_ID, ROUTE_TODO, head);
      return;
    }
    metrics.cache(L1_MISS);
    const generation = items.generation;
    const epoch = items.epoch;
    const d = defer(res, req, head);
    const answer = (entry: ItemEntry) => {
      if (entry.rep === null) failLater(res, d, NO_SUCH_TODO, ROUTE_TODO);
      else serveLater(res, d, entry.rep, ROUTE_TODO);
    };
    filler.item(generation, id).then(
      (rep) => {
        const entry: ItemEntry = rep === null ? NOT_FOUND_ENTRY : { rep, bytes: rep.bytes };
        items.set(id, entry, service.now + service.ttlMs, epoch);
        answer(entry);
      },
      (err: unknown) => {
        const stale = items.getStale(id);
        if (stale !== undefined) {
          metrics.staleServed.inc({ reason: "error" });
          answer(stale.value);
        } else {
          log.warn("todo fill failed with nothing cached to serve", { err });
          failLater(res, d, UNAVAILABLE, ROUTE_TODO);
        }
      },
    );
  }

  // ---- GET /commands/:id ---------------------------------------------------------------------
  function command(res: HttpResponse, req: HttpRequest, head: boolean): void {
    const id = req.getParameter(0);
    const final = service.commands.cached(id);
    if (final !== undefined) {
      serveNow(res, req, final, ROUTE_COMMAND, head);
      return;
    }
    if (!isUuid(id)) {
      fail(res, id === "" ? NOT_FOUND_ROUTE : BAD_COMMAND_ID, ROUTE_COMMAND, head);
      return;
    }
    const d = defer(res, req, head);
    service.commands.lookup(id).then(
      (outcome) => {
        if (outcome.final) {
          serveLater(res, d, outcome.rep, ROUTE_COMMAND);
          return;
        }
        settle(d);
        if (!d.aborted) {
          res.cork(() =>
            writeJson(res, 200, pendingCommandJson(id), d.head, service.draining, {
              "Cache-Control": "no-store",
            }),
          );
          metrics.response(ROUTE_COMMAND, 200);
        }
      },
      (err: unknown) => {
        log.warn("command status lookup failed", { err });
        failLater(res, d, UNAVAILABLE, ROUTE_COMMAND);
      },
    );
  }

  // ---- health ----------------------------------------------------------------------------
  function health(res: HttpResponse, ready: boolean, body: string, head: boolean): void {
    res.onAborted(noop);
    const status = ready ? 200 : 503;
    res.cork(() =>
      writeJson(res, status, body, head, service.draining, { "Cache-Control": "no-store" }),
    );
    metrics.response(ROUTE_HEALTH, status);
  }
  const healthz = (res: HttpResponse, _req: HttpRequest, head: boolean) =>
    health(res, true, '{"status":"ok"}', head);
  const readyz = (res: HttpResponse, _req: HttpRequest, head: boolean) => {
    const ready = service.ready();
    health(
      res,
      ready,
      JSON.stringify({ status: ready ? "ready" : "not_ready", generation: service.generation }),
      head,
    );
  };

  // ---- wiring ----------------------------------------------------------------------------
  type Handler = (res: HttpResponse, req: HttpRequest, head: boolean) => void;
  const guarded = (route: RouteIndex, handler: Handler, head: boolean) =>
    function route_(res: HttpResponse, req: HttpRequest): void {
      try {
        handler(res, req, head);
      } catch (err) {
        log.error("request handler failed", { err });
        try {
          fail(res, INTERNAL, route, head);
        } catch {
          // Already answered (or aborted): nothing more to say on this response.
        }
      }
    };
  const readOnly: [string, RouteIndex, Handler][] = [
    ["/todos", ROUTE_TODOS, todos],
    ["/todos/:id", ROUTE_TODO, todo],
    ["/commands/:id", ROUTE_COMMAND, command],
    ["/healthz", ROUTE_HEALTH, healthz],
    ["/readyz", ROUTE_HEALTH, readyz],
  ];
  for (const [path, route, handler] of readOnly) {
    app.get(path, guarded(route, handler, false));
    app.head(path, guarded(route, handler, true));
    app.any(path, (res, req) => fail(res, METHOD_NOT_ALLOWED, route, req.getMethod() === "head"));
  }
  app.any("/*", (res, req) => fail(res, NOT_FOUND_ROUTE, ROUTE_OTHER, req.getMethod() === "head"));
}
