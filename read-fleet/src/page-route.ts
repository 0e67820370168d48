import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { HttpError } from "@million-rps/shared";
import type { Logger } from "@million-rps/shared/log";
import { L1_HIT, L1_MISS, ROUTE_TODOS } from "./fleet-metrics";
import { UNAVAILABLE } from "./http-errors";
import type { Slot } from "./l1-cache";
import type { PageAnswer } from "./page-cache";
import { type PageQuery, parsePageQuery } from "./page-query";
import type { ReadService } from "./read-service";
import type { Responder } from "./responder";

/** What the page route uses of the read process (ReadService has it all). */
export interface PageRouteService
  extends Pick<ReadService, "pages" | "metrics" | "now" | "ttlMs" | "fillPage" | "expiredPage"> {
  readonly deps: { readonly log: Logger };
}

/**
 * `GET /todos`: the hot path. The query is parsed to its canonical page (limit,
 * cursor), so junk parameters and other spellings find the same entry; a held
 * page always answers at once, even while its successor is being brought in.
 */
export function pageRoute(service: PageRouteService, respond: Responder) {
  const { pages, metrics } = service;
  const log = service.deps.log;

  function miss(res: HttpResponse, req: HttpRequest, query: PageQuery, head: boolean): void {
    metrics.cache(L1_MISS);
    const d = respond.defer(res, req, head);
    service.fillPage(query).then(
      (slot) => respond.later(res, d, slot.value.rep, ROUTE_TODOS),
      (err: unknown) => {
        if (err instanceof HttpError && err.status < 500) {
          respond.failLater(res, d, err, ROUTE_TODOS);
        } else {
          log.warn("page fill failed with nothing cached to serve", { err });
          respond.failLater(res, d, UNAVAILABLE, ROUTE_TODOS);
        }
      },
    );
  }

  // The previous hit, checked first: comparing the query string with the last one costs
  // less than parsing it. The slot is answered from until the bound evicts it.
  let lastQuery = "";
  let lastSlot: Slot<PageAnswer> | undefined;

  return function todos(res: HttpResponse, req: HttpRequest, head: boolean): void {
    const rawQuery = req.getQuery() ?? "";
    let slot = rawQuery === lastQuery ? lastSlot : undefined;
    if (slot === undefined || slot.evicted) {
      let query: PageQuery;
      try {
        query = parsePageQuery(rawQuery);
      } catch (err) {
        respond.fail(res, err as HttpError, ROUTE_TODOS, head);
        return;
      }
      slot = pages.get(query.key);
      if (slot === undefined) {
        miss(res, req, query, head);
        return;
      }
      lastQuery = rawQuery;
      lastSlot = slot;
    } else {
      slot.used = true;
    }
    metrics.cache(L1_HIT);
    respond.now(res, req, slot.value.rep, ROUTE_TODOS, head);
    if (service.now - slot.fetchedAt > service.ttlMs && !slot.refreshing) service.expiredPage(slot);
  };
}
