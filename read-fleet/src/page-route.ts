import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import type { HttpError } from "@million-rps/shared";
import { L1_HIT, L1_MISS, L1_STALE, ROUTE_TODOS } from "./fleet-metrics";
import { UNAVAILABLE } from "./http-errors";
import type { Slot } from "./l1-cache";
import { type PageQuery, parsePageQuery } from "./page-query";
import type { ReadService } from "./read-service";
import type { Representation } from "./representation";
import type { Responder } from "./responder";

/** `GET /todos`: the hot path. The raw query string is the L1 key of the current generation. */
export function pageRoute(service: ReadService, respond: Responder) {
  const { pages, metrics, filler } = service;
  const log = service.deps.log;
  const refreshing = new Set<string>();

  function miss(
    res: HttpResponse,
    req: HttpRequest,
    rawQuery: string,
    expired: Slot<Representation> | undefined,
    head: boolean,
  ): void {
    let query: PageQuery;
    try {
      query = parsePageQuery(rawQuery);
    } catch (err) {
      respond.fail(res, err as HttpError, ROUTE_TODOS, head);
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
      respond.now(res, req, expired.value, ROUTE_TODOS, head);
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
    const d = respond.defer(res, req, head);
    filler
      .page(generation, query)
      .then(store)
      .then(
        (rep) => respond.later(res, d, rep, ROUTE_TODOS),
        (err: unknown) => {
          const stale = pages.getStale(rawQuery);
          if (stale !== undefined) {
            metrics.staleServed.inc({ reason: "error" });
            respond.later(res, d, stale.value, ROUTE_TODOS);
          } else {
            log.warn("page fill failed with nothing cached to serve", { err });
            respond.failLater(res, d, UNAVAILABLE, ROUTE_TODOS);
          }
        },
      );
  }

  // The previous hit, checked first: comparing the query string with the last one costs less
  // than hashing it for the Map. Only trusted within the same L1 epoch.
  let lastQuery = "";
  let lastSlot: Slot<Representation> | undefined;
  let lastEpoch = -1;

  return function todos(res: HttpResponse, req: HttpRequest, head: boolean): void {
    const rawQuery = req.getQuery() ?? "";
    let slot = rawQuery === lastQuery && lastEpoch === pages.epoch ? lastSlot : undefined;
    if (slot === undefined || slot.freshUntil <= service.now) slot = pages.get(rawQuery);
    else slot.used = true;
    if (slot !== undefined && slot.freshUntil > service.now) {
      lastQuery = rawQuery;
      lastSlot = slot;
      lastEpoch = pages.epoch;
      metrics.cache(L1_HIT);
      respond.now(res, req, slot.value, ROUTE_TODOS, head);
      return;
    }
    miss(res, req, rawQuery, slot, head);
  };
}
