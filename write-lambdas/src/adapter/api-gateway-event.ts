import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { WriteKind } from "../commands";

/**
 * What API Gateway would do with a request before our Lambda sees it: pick the
 * route (404 / 405 otherwise) and build the payload v2 event. Pure, so the
 * adapter's fidelity is unit-tested.
 */
export type RouteMatch =
  | { found: true; kind: WriteKind; routeKey: string; pathParameters?: { id: string } }
  | { found: false; status: 404 }
  | { found: false; status: 405; allow: string };

const ITEM_PATH = /^\/todos\/([^/]+)$/;

export function matchRoute(method: string, path: string): RouteMatch {
  if (path === "/todos") {
    if (method === "POST") return { found: true, kind: "create", routeKey: "POST /todos" };
    return { found: false, status: 405, allow: "POST" };
  }
  const item = ITEM_PATH.exec(path);
  if (item?.[1] === undefined) return { found: false, status: 404 };
  let id = item[1];
  try {
    id = decodeURIComponent(id);
  } catch {} // left encoded: the handler's UUID check refuses it either way
  const pathParameters = { id };
  if (method === "PUT" || method === "PATCH")
    return { found: true, kind: "update", routeKey: `${method} /todos/{id}`, pathParameters };
  if (method === "DELETE")
    return { found: true, kind: "delete", routeKey: "DELETE /todos/{id}", pathParameters };
  return { found: false, status: 405, allow: "PUT, PATCH, DELETE" };
}

export interface HttpRequestParts {
  method: string;
  /** The request target as sent: path and query string. */
  url: string;
  /** Raw header pairs as received (node's `rawHeaders`), so repeated headers join as API Gateway joins them. */
  rawHeaders: readonly string[];
  body: Buffer;
  sourceIp: string;
  protocol: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function textOrBase64(body: Buffer): { body?: string; isBase64Encoded: boolean } {
  if (body.byteLength === 0) return { isBase64Encoded: false };
  try {
    return { body: utf8.decode(body), isBase64Encoded: false };
  } catch {
    return { body: body.toString("base64"), isBase64Encoded: true };
  }
}

/** `dd/MMM/yyyy:HH:mm:ss +0000`, the format of `requestContext.time`. */
function requestTime(date: Date): string {
  const [, day, month, year, time] = date.toUTCString().split(" ");
  return `${day}/${month}/${year}:${time} +0000`;
}

export function apiGatewayEvent(
  request: HttpRequestParts,
  route: Extract<RouteMatch, { found: true }>,
  now = new Date(),
): APIGatewayProxyEventV2 {
  const queryAt = request.url.indexOf("?");
  const rawPath = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
  const rawQueryString = queryAt < 0 ? "" : request.url.slice(queryAt + 1);
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = (request.rawHeaders[i] ?? "").toLowerCase();
    const value = request.rawHeaders[i + 1] ?? "";
    if (name === "cookie") cookies.push(...value.split(";").map((c) => c.trim()));
    else headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  const query =
    rawQueryString === "" ? undefined : Object.fromEntries(new URLSearchParams(rawQueryString));
  return {
    version: "2.0",
    routeKey: route.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(query && { queryStringParameters: query }),
    ...(route.pathParameters && { pathParameters: route.pathParameters }),
    requestContext: {
      accountId: "local",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: (headers.host ?? "localhost").split(".")[0] ?? "localhost",
      http: {
        method: request.method,
        path: rawPath,
        protocol: request.protocol,
        sourceIp: request.sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: "$default",
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    ...textOrBase64(request.body),
  };
}
