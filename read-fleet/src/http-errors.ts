import { HttpError } from "@million-rps/shared";

/** The errors the read API answers with, built once. */
export const NOT_FOUND_ROUTE = new HttpError(404, "not_found", "no such resource");
export const NO_SUCH_TODO = new HttpError(404, "not_found", "no todo with this id");
export const BAD_TODO_ID = new HttpError(400, "bad_request", "todo id must be a lower-case UUID");
export const BAD_COMMAND_ID = new HttpError(
  400,
  "bad_request",
  "command id must be a lower-case UUID",
);
/** A well-formed id this API never issued (its tag does not check out) and no record of it. */
export const NO_SUCH_COMMAND = new HttpError(404, "not_found", "no command with this id");
export const UNAVAILABLE = new HttpError(
  503,
  "unavailable",
  "the data store is unavailable and nothing cached can answer; retry shortly",
  { "Retry-After": "1" },
);
export const METHOD_NOT_ALLOWED = new HttpError(
  405,
  "method_not_allowed",
  "only GET and HEAD here",
  { Allow: "GET, HEAD" },
);
export const INTERNAL = new HttpError(500, "internal", "internal error");
