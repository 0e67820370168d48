import { HttpError } from "@million-rps/shared";
import { describe, expect, it } from "vitest";
import {
  BODY_MAX_BYTES,
  idempotencyKeyFrom,
  jsonBody,
  todoIdFrom,
  ValidationError,
} from "../src/http/request";
import { event, JSON_TYPE } from "./support";

function thrown(f: () => unknown): HttpError {
  try {
    f();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error("expected an HttpError");
}

const post = (
  body: string | undefined,
  headers: Record<string, string> = JSON_TYPE,
  base64 = false,
) => event("POST", "/todos", { headers, ...(body !== undefined && { body }), base64 });

describe("jsonBody", () => {
  it("parses a JSON object, with or without a UTF-8 charset", () => {
    expect(jsonBody(post('{"title":"a"}'))).toEqual({ title: "a" });
    for (const type of ["application/json; charset=utf-8", 'Application/JSON;charset="UTF-8"']) {
      expect(jsonBody(post('{"title":"a"}', { "content-type": type }))).toEqual({ title: "a" });
    }
  });

  it("decodes a base64 body", () => {
    const body = Buffer.from('{"title":"ü"}').toString("base64");
    expect(jsonBody(post(body, JSON_TYPE, true))).toEqual({ title: "ü" });
  });

  it("answers 415 for a missing or wrong content type", () => {
    for (const headers of [
      {} as Record<string, string>,
      { "content-type": "text/plain" },
      { "content-type": "application/json; charset=latin1" },
      { "content-type": "application/jsonp" },
      { "content-type": "multipart/form-data" },
    ]) {
      expect(thrown(() => jsonBody(post('{"title":"a"}', headers))).status).toBe(415);
    }
  });

  it("answers 413 past 16 KiB, counted in bytes", () => {
    const fits = `{"title":"a","description":"${"x".repeat(BODY_MAX_BYTES - 30)}"}`.padEnd(
      BODY_MAX_BYTES,
      " ",
    );
    expect(Buffer.byteLength(fits)).toBe(BODY_MAX_BYTES);
    expect(() => jsonBody(post(fits))).not.toThrow();
    expect(thrown(() => jsonBody(post(`${fits} `))).status).toBe(413);
    // 8193 two-byte characters: fewer than 16 KiB characters, more than 16 KiB bytes.
    expect(thrown(() => jsonBody(post(`"${"é".repeat(8193)}"`))).status).toBe(413);
    const big = Buffer.alloc(BODY_MAX_BYTES + 1, 0x20).toString("base64");
    expect(thrown(() => jsonBody(post(big, JSON_TYPE, true))).status).toBe(413);
    expect(thrown(() => jsonBody(post("x".repeat(10_000_000)))).code).toBe("payload_too_large");
  });

  it("answers 400 for an empty body, invalid UTF-8 and invalid JSON", () => {
    expect(thrown(() => jsonBody(post(undefined))).code).toBe("invalid_body");
    expect(thrown(() => jsonBody(post(""))).code).toBe("invalid_body");
    const latin1 = Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]).toString("base64");
    expect(thrown(() => jsonBody(post(latin1, JSON_TYPE, true))).message).toMatch(/UTF-8/);
    for (const bad of ["{", "{'title':'a'}", '{"title":"a",}', "nope", '{"title":"a"} x']) {
      const err = thrown(() => jsonBody(post(bad)));
      expect([err.status, err.code]).toEqual([400, "invalid_json"]);
    }
  });
});

describe("todoIdFrom", () => {
  it("takes a lower-case UUID", () => {
    const id = "0190b5e2-7c4d-7a3e-8f00-123456789abc";
    expect(todoIdFrom(event("DELETE", `/todos/${id}`))).toBe(id);
  });

  it("answers 400 naming the id for anything else", () => {
    for (const id of [
      "1",
      "not-a-uuid",
      "0190B5E2-7C4D-7A3E-8F00-123456789ABC",
      "0190b5e2-7c4d-7a3e-8f00-123456789abc0",
      "../etc",
    ]) {
      const err = thrown(() => todoIdFrom(event("DELETE", `/todos/${id}`)));
      expect(err).toBeInstanceOf(ValidationError);
      expect([err.status, err.code, (err as ValidationError).field]).toEqual([
        400,
        "invalid_id",
        "id",
      ]);
    }
  });
});

describe("idempotencyKeyFrom", () => {
  it("is optional and takes printable ASCII up to 255 characters", () => {
    expect(idempotencyKeyFrom(event("POST", "/todos"))).toBeUndefined();
    const key = "k".repeat(255);
    expect(
      idempotencyKeyFrom(event("POST", "/todos", { headers: { "idempotency-key": key } })),
    ).toBe(key);
  });

  it("answers 400 naming the header otherwise", () => {
    for (const key of ["", "k".repeat(256), "tab\there", "ünïcode"]) {
      const err = thrown(() =>
        idempotencyKeyFrom(event("POST", "/todos", { headers: { "idempotency-key": key } })),
      );
      expect([err.status, (err as ValidationError).field]).toEqual([400, "Idempotency-Key"]);
    }
  });
});
