import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { isUuid } from "@million-rps/shared";
import type { Logger } from "@million-rps/shared/log";
import { L1_HIT, L1_MISS, ROUTE_TODO } from "./fleet-metrics";
import { BAD_TODO_ID, NO_SUCH_TODO, NOT_FOUND_ROUTE, UNAVAILABLE } from "./http-errors";
import type { ItemAnswer } from "./item-answer";
import type { ReadService } from "./read-service";
import type { Responder } from "./responder";

/** What the todo route uses of the read process (ReadService has it all). */
export interface ItemRouteService
  extends Pick<ReadService, "items" | "metrics" | "now" | "ttlMs" | "fillItem" | "expiredItem"> {
  readonly deps: { readonly log: Logger };
}

/** `GET /todos/:id`: L1 by id ("no such todo" remembered too), then L2, then Postgres. */
export function itemRoute(service: ItemRouteService, respond: Responder) {
  const { items, metrics } = service;
  const log = service.deps.log;

  return function todo(res: HttpResponse, req: HttpRequest, head: boolean): void {
    const id = req.getParameter(0);
    const slot = items.get(id);
    if (slot !== undefined) {
      metrics.cache(L1_HIT);
      const { rep } = slot.value;
      if (rep === null) respond.fail(res, NO_SUCH_TODO, ROUTE_TODO, head);
      else respond.now(res, req, rep, ROUTE_TODO, head);
      if (service.now - slot.fetchedAt > service.ttlMs && !slot.refreshing) {
        service.expiredItem(slot);
      }
      return;
    }
    if (!isUuid(id)) {
      respond.fail(res, id === "" ? NOT_FOUND_ROUTE : BAD_TODO_ID, ROUTE_TODO, head);
      return;
    }
    metrics.cache(L1_MISS);
    const d = respond.defer(res, req, head);
    const answer = ({ rep }: ItemAnswer) => {
      if (rep === null) respond.failLater(res, d, NO_SUCH_TODO, ROUTE_TODO);
      else respond.later(res, d, rep, ROUTE_TODO);
    };
    service.fillItem(id).then(
      (filled) => answer(filled.value),
      (err: unknown) => {
        log.warn("todo fill failed with nothing cached to serve", { err });
        respond.failLater(res, d, UNAVAILABLE, ROUTE_TODO);
      },
    );
  };
}
