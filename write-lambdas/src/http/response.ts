import { errorBody, HttpError } from "@million-rps/shared";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { StoredAnswer } from "../idempotency/idempotency-store";
import { ValidationError } from "./request";

/** What every write handler returns to API Gateway (payload v2, structured). */
export interface WriteResponse extends APIGatewayProxyStructuredResultV2 {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_HEADERS = {
  "Content-Type": "application/json",
  // Answers to writes are about one caller's request: never cached by a CDN or browser.
  "Cache-Control": "no-store",
};

/** 202: the command is durable in Kafka; its outcome is at /commands/{command_id}. */
export function acceptedResponse(commandId: string, todoId: string): WriteResponse {
  return {
    statusCode: 202,
    headers: { ...JSON_HEADERS, Location: `/todos/${todoId}` },
    body: JSON.stringify({ command_id: commandId, id: todoId, status: "accepted" }),
  };
}

/** A 202 as the idempotency store keeps it: replayed byte for byte to a retry. */
export function storedAnswer(response: WriteResponse): StoredAnswer {
  const location = response.headers.Location;
  return {
    status: response.statusCode,
    body: response.body,
    ...(location !== undefined && { location }),
  };
}

export function replayedResponse(answer: StoredAnswer): WriteResponse {
  return {
    statusCode: answer.status,
    headers: {
      ...JSON_HEADERS,
      ...(answer.location !== undefined && { Location: answer.location }),
    },
    body: answer.body,
  };
}

/** The one place write errors become responses: known HttpErrors as they are, anything else a bare 500. */
export function errorResponse(err: unknown): WriteResponse {
  if (err instanceof HttpError) {
    const details =
      err instanceof ValidationError && err.field !== null ? { field: err.field } : undefined;
    return {
      statusCode: err.status,
      headers: { ...JSON_HEADERS, ...err.headers },
      body: errorBody(err.code, err.message, details),
    };
  }
  return {
    statusCode: 500,
    headers: { ...JSON_HEADERS },
    body: errorBody("internal", "internal error"),
  };
}
