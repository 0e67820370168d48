import { describe, expect, it } from "vitest";
import { apiGatewayEvent, matchRoute } from "../src/adapter/api-gateway-event";

const ID = "0190b5e2-7c4d-7a3e-8f00-123456789abc";

describe("matchRoute (API Gateway's routing, locally)", () => {
  it("routes the four writes", () => {
    expect(matchRoute("POST", "/todos")).toEqual({
      found: true,
      kind: "create",
      routeKey: "POST /todos",
    });
    for (const method of ["PUT", "PATCH"]) {
      expect(matchRoute(method, `/todos/${ID}`)).toEqual({
        found: true,
        kind: "update",
        routeKey: `${method} /todos/{id}`,
        pathParameters: { id: ID },
      });
    }
    expect(matchRoute("DELETE", "/todos/x%2Fy")).toMatchObject({
      kind: "delete",
      pathParameters: { id: "x/y" },
    });
  });

  it("answers 404 for unknown paths and 405 with Allow for other methods", () => {
    for (const path of ["/", "/todo", "/todos/", "/todos/a/b", "/todosx"]) {
      expect(matchRoute("POST", path)).toEqual({ found: false, status: 404 });
    }
    expect(matchRoute("GET", "/todos")).toEqual({ found: false, status: 405, allow: "POST" });
    expect(matchRoute("POST", `/todos/${ID}`)).toEqual({
      found: false,
      status: 405,
      allow: "PUT, PATCH, DELETE",
    });
  });
});

describe("apiGatewayEvent", () => {
  const route = {
    found: true,
    kind: "update",
    routeKey: "PATCH /todos/{id}",
    pathParameters: { id: ID },
  } as const;
  const now = new Date("2026-03-04T05:06:07.000Z");

  it("builds a payload v2 event like API Gateway's", () => {
    const e = apiGatewayEvent(
      {
        method: "PATCH",
        url: `/todos/${ID}?a=1&b=2`,
        rawHeaders: [
          "Host",
          "api.local",
          "Content-Type",
          "application/json",
          "X-Dup",
          "1",
          "x-dup",
          "2",
          "Cookie",
          "a=1; b=2",
        ],
        body: Buffer.from('{"completed":true}'),
        sourceIp: "10.0.0.1",
        protocol: "HTTP/1.1",
      },
      route,
      now,
    );
    expect(e).toMatchObject({
      version: "2.0",
      routeKey: "PATCH /todos/{id}",
      rawPath: `/todos/${ID}`,
      rawQueryString: "a=1&b=2",
      cookies: ["a=1", "b=2"],
      headers: { host: "api.local", "content-type": "application/json", "x-dup": "1,2" },
      queryStringParameters: { a: "1", b: "2" },
      pathParameters: { id: ID },
      requestContext: {
        domainName: "api.local",
        http: { method: "PATCH", path: `/todos/${ID}`, sourceIp: "10.0.0.1", protocol: "HTTP/1.1" },
        routeKey: "PATCH /todos/{id}",
        stage: "$default",
        time: "04/Mar/2026:05:06:07 +0000",
        timeEpoch: now.getTime(),
      },
      body: '{"completed":true}',
      isBase64Encoded: false,
    });
    expect(e.headers.cookie).toBeUndefined();
  });

  it("base64-encodes a body that is not UTF-8 and omits an empty one", () => {
    const parts = {
      method: "PATCH",
      url: `/todos/${ID}`,
      rawHeaders: [],
      sourceIp: "::1",
      protocol: "HTTP/1.1",
    };
    const binary = apiGatewayEvent({ ...parts, body: Buffer.from([0xff, 0xfe]) }, route, now);
    expect([binary.body, binary.isBase64Encoded]).toEqual(["//4=", true]);
    const empty = apiGatewayEvent({ ...parts, body: Buffer.alloc(0) }, route, now);
    expect([empty.body, empty.isBase64Encoded]).toEqual([undefined, false]);
  });
});
