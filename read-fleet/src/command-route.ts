import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { isIssuedCommandId, isUuid, pendingCommandJson } from "@million-rps/shared";
import type { Logger } from "@million-rps/shared/log";
import type { ReadFleetConfig } from "./config";
import { ROUTE_COMMAND } from "./fleet-metrics";
import { BAD_COMMAND_ID, NO_SUCH_COMMAND, NOT_FOUND_ROUTE, UNAVAILABLE } from "./http-errors";
import type { ReadService } from "./read-service";
import type { Responder } from "./responder";

/** What the command route uses of the read process (ReadService has it all). */
export interface CommandRouteService extends Pick<ReadService, "commands"> {
  readonly deps: {
    readonly log: Logger;
    readonly config: Pick<ReadFleetConfig, "commandIdSecret">;
  };
}

/**
 * `GET /commands/:id`: final statuses from L1, otherwise Postgres. Not recorded yet:
 * "pending" for an id the write API issued (its tag checks out under
 * COMMAND_ID_SECRET), 404 for any other, so a typo or a forged id never reads as a
 * slow worker. A recorded command answers whatever its id (ids issued before the tag
 * existed, or under a rotated secret, keep their final status).
 */
export function commandRoute(service: CommandRouteService, respond: Responder) {
  const log = service.deps.log;
  const secret = service.deps.config.commandIdSecret;

  return function command(res: HttpResponse, req: HttpRequest, head: boolean): void {
    const id = req.getParameter(0);
    const final = service.commands.cached(id);
    if (final !== undefined) {
      respond.now(res, req, final, ROUTE_COMMAND, head);
      return;
    }
    if (!isUuid(id)) {
      respond.fail(res, id === "" ? NOT_FOUND_ROUTE : BAD_COMMAND_ID, ROUTE_COMMAND, head);
      return;
    }
    const d = respond.defer(res, req, head);
    service.commands.lookup(id).then(
      (found) => {
        if (found.final) respond.later(res, d, found.rep, ROUTE_COMMAND);
        else if (isIssuedCommandId(id, secret))
          respond.laterJson(res, d, pendingCommandJson(id), ROUTE_COMMAND);
        else respond.failLater(res, d, NO_SUCH_COMMAND, ROUTE_COMMAND);
      },
      (err: unknown) => {
        log.warn("command status lookup failed", { err });
        respond.failLater(res, d, UNAVAILABLE, ROUTE_COMMAND);
      },
    );
  };
}
