import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import type { HttpError } from "@million-rps/shared";
import type { RouteIndex } from "./fleet-metrics";
import { ifNoneMatchMatches } from "./negotiation";
import type { ReadService } from "./read-service";
import { ownBuffer, type Representation, type Variant, wireOf } from "./representation";
import {
  noop,
  writeBody,
  writeError,
  writeJson,
  writeNotModified,
  writeVariant,
} from "./response-writers";

/** What a deferred answer needs from the request: `req` is gone after the handler returns. */
export interface Deferred {
  aborted: boolean;
  settled: boolean;
  acceptEncoding: string;
  ifNoneMatch: string;
  head: boolean;
}

// Header names as ArrayBuffers: uWS reads them in place (a string key is UTF-8 encoded per call).
const ACCEPT_ENCODING = wireOf(ownBuffer(Buffer.from("accept-encoding")));
const IF_NONE_MATCH = wireOf(ownBuffer(Buffer.from("if-none-match")));

/** What answering uses of the read process (ReadService has it all). */
export type ResponderService = Pick<ReadService, "negotiate" | "draining" | "pending" | "metrics">;

/**
 * Answers requests now (warm hits, errors) or later (after a fill), counting each
 * response. The synchronous path allocates nothing: the corked writers read their
 * arguments from fields set just before the synchronous `res.cork` call.
 */
export class Responder {
  private res!: HttpResponse;
  private variant!: Variant;
  private head = false;
  private readonly cork200 = () =>
    writeVariant(this.res, this.variant, this.head, this.service.draining);
  private readonly cork304 = () => writeNotModified(this.res, this.variant);

  constructor(private readonly service: ResponderService) {}

  /** The warm hit: prebuilt bytes, no await. */
  now(res: HttpResponse, req: HttpRequest, rep: Representation, route: RouteIndex, head: boolean) {
    const variant = rep.variants[this.service.negotiate(req.getHeader(ACCEPT_ENCODING))];
    const inm = req.getHeader(IF_NONE_MATCH);
    res.onAborted(noop); // see response-writers.ts: keeps a dropped write from terminating the process
    this.res = res;
    this.variant = variant;
    this.head = head;
    if (inm !== "" && ifNoneMatchMatches(inm, variant.etag)) {
      res.cork(this.cork304);
      this.service.metrics.response(route, 304);
    } else {
      res.cork(this.cork200);
      this.service.metrics.response(route, 200);
    }
  }

  /** Before any await: copy what the answer needs and attach the abort handler. */
  defer(res: HttpResponse, req: HttpRequest, head: boolean): Deferred {
    this.service.pending++;
    const d: Deferred = {
      aborted: false,
      settled: false,
      acceptEncoding: req.getHeader(ACCEPT_ENCODING),
      ifNoneMatch: req.getHeader(IF_NONE_MATCH),
      head,
    };
    res.onAborted(() => {
      d.aborted = true;
      this.settle(d);
    });
    return d;
  }

  /** Counts a deferred answer out of `service.pending` exactly once (shutdown waits on it). */
  settle(d: Deferred): void {
    if (d.settled) return;
    d.settled = true;
    this.service.pending--;
  }

  later(res: HttpResponse, d: Deferred, rep: Representation, route: RouteIndex): void {
    this.settle(d);
    if (d.aborted) return;
    const variant = rep.variants[this.service.negotiate(d.acceptEncoding)];
    const notModified = d.ifNoneMatch !== "" && ifNoneMatchMatches(d.ifNoneMatch, variant.etag);
    res.cork(() => {
      if (notModified) writeNotModified(res, variant);
      else writeVariant(res, variant, d.head, this.service.draining);
    });
    this.service.metrics.response(route, notModified ? 304 : 200);
  }

  /** A JSON body built for this request only (e.g. a pending command): never cached. */
  laterJson(res: HttpResponse, d: Deferred, json: string, route: RouteIndex): void {
    this.settle(d);
    if (d.aborted) return;
    res.cork(() =>
      writeJson(res, 200, json, d.head, this.service.draining, { "Cache-Control": "no-store" }),
    );
    this.service.metrics.response(route, 200);
  }

  document(res: HttpResponse, body: Buffer, contentType: string, route: RouteIndex, head: boolean) {
    res.onAborted(noop);
    res.cork(() =>
      writeBody(res, 200, contentType, body, head, this.service.draining, {
        "Cache-Control": "public, max-age=300",
      }),
    );
    this.service.metrics.response(route, 200);
  }

  json(res: HttpResponse, status: number, json: string, route: RouteIndex, head: boolean): void {
    res.onAborted(noop);
    res.cork(() =>
      writeJson(res, status, json, head, this.service.draining, { "Cache-Control": "no-store" }),
    );
    this.service.metrics.response(route, status);
  }

  fail(res: HttpResponse, err: HttpError, route: RouteIndex, head: boolean): void {
    res.onAborted(noop);
    res.cork(() => writeError(res, err, head, this.service.draining));
    this.service.metrics.response(route, err.status);
  }

  failLater(res: HttpResponse, d: Deferred, err: HttpError, route: RouteIndex): void {
    this.settle(d);
    if (d.aborted) return;
    res.cork(() => writeError(res, err, d.head, this.service.draining));
    this.service.metrics.response(route, err.status);
  }
}
