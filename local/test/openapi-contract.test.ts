import { describe, expect, it } from "vitest";
import { OpenApiContract } from "./support/openapi-contract";

// The checker behind contract.int.test.ts must be able to fail: each kind of drift it
// is meant to catch, on hand-made responses.

const contract = new OpenApiContract();
const TODO = {
  id: "0f8fad5b-d9cb-469f-a165-70867728950e",
  title: "t",
  description: "",
  completed: false,
  user_id: "u",
  created_at: "2026-01-01T00:00:00.000000Z",
  updated_at: "2026-01-01T00:00:00.000000Z",
};
const PAGE_HEADERS = {
  "content-type": "application/json",
  etag: '"abc"',
  "cache-control": "public, max-age=1",
  vary: "Accept-Encoding",
};

function observed(status: number, headers: Record<string, string>, body: unknown = "") {
  return {
    status,
    headers: new Headers(headers),
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

describe("OpenApiContract", () => {
  it("accepts a conforming page", () => {
    expect(contract.problems("listTodos", observed(200, PAGE_HEADERS, [TODO]))).toEqual([]);
  });

  it("names an undocumented status", () => {
    expect(contract.problems("listTodos", observed(500, {}, "{}"))).toEqual([
      expect.stringContaining("status 500 is not documented"),
    ]);
  });

  it("names a missing required header and a header that breaks its schema", () => {
    const { etag: _, ...noEtag } = PAGE_HEADERS;
    expect(contract.problems("listTodos", observed(200, noEtag, [TODO]))).toEqual([
      "required header ETag is missing",
    ]);
    const wrongVary = { ...PAGE_HEADERS, vary: "Origin" };
    expect(contract.problems("listTodos", observed(200, wrongVary, [TODO]))).toEqual([
      expect.stringContaining("header Vary"),
    ]);
  });

  it("names a body that breaks its schema, through $refs", () => {
    const extra = { ...TODO, secret: 1 };
    expect(contract.problems("listTodos", observed(200, PAGE_HEADERS, [extra]))).toEqual([
      expect.stringContaining("must NOT have additional properties"),
    ]);
    const badId = { ...TODO, id: "nope" };
    expect(contract.problems("getTodo", observed(200, PAGE_HEADERS, badId))).toEqual([
      expect.stringContaining('must match format "uuid"'),
    ]);
    const noCode = { error: { message: "m" } };
    expect(
      contract.problems(
        "createTodo",
        observed(400, { "content-type": "application/json" }, noCode),
      ),
    ).toEqual([expect.stringContaining("must have required property 'code'")]);
  });

  it("validates integer headers as numbers and requires them", () => {
    const json = { "content-type": "application/json" };
    const body = { error: { code: "unavailable", message: "m" } };
    expect(contract.problems("createTodo", observed(503, json, body))).toEqual([
      "required header Retry-After is missing",
    ]);
    expect(
      contract.problems("createTodo", observed(503, { ...json, "retry-after": "0" }, body)),
    ).toEqual([expect.stringContaining("header Retry-After must be >= 1")]);
    expect(
      contract.problems("createTodo", observed(503, { ...json, "retry-after": "2" }, body)),
    ).toEqual([]);
  });

  it("refuses an undocumented content type and a body on HEAD or 304", () => {
    expect(
      contract.problems(
        "listTodos",
        observed(200, { ...PAGE_HEADERS, "content-type": "text/html" }),
      ),
    ).toEqual([expect.stringContaining('content type "text/html" is not documented')]);
    expect(contract.problems("headTodos", observed(200, PAGE_HEADERS, "[]"))).toEqual([
      "a HEAD 200 must have no body",
    ]);
    expect(contract.problems("listTodos", observed(304, PAGE_HEADERS, "[]"))).toEqual([
      "a GET 304 must have no body",
    ]);
  });

  it("lists every documented status as unexercised until seen", () => {
    const fresh = new OpenApiContract();
    expect(fresh.unexercised()).toContain("createTodo 202");
    fresh.problems("createTodo", observed(202, {}, {}));
    expect(fresh.unexercised()).not.toContain("createTodo 202");
  });
});
