import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { isUuid } from "@million-rps/shared";
import { L1_HIT, L1_MISS, ROUTE_TODO } from "./fleet-metrics";
import { BAD_TODO_ID, NO_SUCH_TODO, NOT_FOUND_ROUTE, UNAVAILABLE } from "./http-errors";
import type { ItemEntry, ReadService } from "./read-service";
import type { Responder } from "./responder";

const NOT_FOUND_ENTRY: ItemEntry = { rep: null, bytes: 64 };

/** `GET /todos/:id`: L1 by id (a miss remembered per generation), then L2, then Postgres. */
export function itemRoute(service: ReadService, respond: Responder) {
  const { items, metrics, filler } = service;
  const log = service.deps.log;

  return function todo(res: HttpResponse, req: HttpRequest, head: boolean): void {
    const id = req.getParameter(0);
    const slot = items.get(id);
    if (slot !== undefined && slot.freshUntil > service.now) {
      metrics.cache(L1_HIT);
      if (slot.value.rep === null) respond.fail(res, NO_SUCH_TODO, ROUTE_TODO, head);
      else respond.now(res, req, slot.value.rep, ROUTE_TODO, head);
      return;
    }
    if (!isUuid(id)) {
      respond.fail(res, id === "" ? NOT_FOUND_ROUTE : BAD_TODO_ID, ROUTE_TODO, head);
      return;
    }
    metrics.cache(L1_MISS);
    const generation = items.generation;
    const epoch = items.epoch;
    const d = respond.defer(res, req, head);
    const answer = (entry: ItemEntry) => {
      if (entry.rep === null) respond.failLater(res, d, NO_SUCH_TODO, ROUTE_TODO);
      else respond.later(res, d, entry.rep, ROUTE_TODO);
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
          respond.failLater(res, d, UNAVAILABLE, ROUTE_TODO);
        }
      },
    );
  };
}
