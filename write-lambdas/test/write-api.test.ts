import { randomBytes } from "node:crypto";
import { DependencyError, isIssuedCommandId, parseCommand } from "@million-rps/shared";
import { createLogger } from "@million-rps/shared/pino-logger";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { verificationKeys } from "../src/auth/key-source";
import { createTokenVerifier } from "../src/auth/token-verifier";
import type { WriteKind } from "../src/commands";
import type { CommandSender } from "../src/kafka/command-sender";
import { writeHandler } from "../src/write-api";
import { event, JSON_TYPE, memoryIdempotencyStore, recordingSender } from "./support";

const secret = randomBytes(32);
const verify = createTokenVerifier(
  verificationKeys({ mode: "secret", secret }, { region: undefined, timeoutMs: 1000 }),
  { clockToleranceSec: 5, retryAfterSec: 7 },
);
const log = createLogger("test", { level: "error", write: () => {} });
const TODO = "0190b5e2-7c4d-7a3e-8f00-123456789abc";
const token = (sub: string) =>
  new SignJWT({ sub }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1m").sign(secret);

const commandIdSecret = randomBytes(32);

function deps(sender: CommandSender, store = memoryIdempotencyStore()) {
  return {
    verify,
    sender,
    idempotency: { store, keyPrefix: "t" },
    commandIdSecret,
    retryAfterSec: 7,
    log,
  };
}

async function setup(kind: WriteKind, fail?: () => Error) {
  const sender = recordingSender(fail);
  const store = memoryIdempotencyStore();
  const issuedAt = new Date("2026-01-02T03:04:05.000Z");
  const handle = writeHandler(kind, { ...deps(sender, store), now: () => issuedAt });
  const auth = { authorization: `Bearer ${await token("alice")}`, ...JSON_TYPE };
  return { sender, store, handle, auth };
}

describe("write handlers", () => {
  it("POST answers 202 with ids and Location after the send, with the envelope on the sender", async () => {
    const { sender, handle, auth } = await setup("create");
    const res = await handle(event("POST", "/todos", { headers: auth, body: '{"title":"milk"}' }));
    expect(res.statusCode).toBe(202);
    const body = JSON.parse(res.body);
    expect(body).toEqual({
      command_id: expect.any(String),
      id: expect.any(String),
      status: "accepted",
    });
    expect(res.headers.Location).toBe(`/todos/${body.id}`);
    expect(res.headers["Content-Type"]).toBe("application/json");
    expect(isIssuedCommandId(body.command_id, commandIdSecret), "tagged as issued").toBe(true);
    expect(sender.sent).toEqual([
      {
        v: 1,
        command_id: body.command_id,
        type: "create",
        todo_id: body.id,
        actor: "alice",
        data: { title: "milk", description: "", completed: false },
        issued_at: "2026-01-02T03:04:05.000Z",
      },
    ]);
  });

  it("PUT, PATCH and DELETE target the path id", async () => {
    for (const [kind, method, body] of [
      ["update", "PUT", '{"title":"eggs","completed":true}'],
      ["update", "PATCH", '{"completed":false}'],
      ["delete", "DELETE", undefined],
    ] as const) {
      const { sender, handle, auth } = await setup(kind);
      const res = await handle(
        event(method, `/todos/${TODO}`, { headers: auth, ...(body && { body }) }),
      );
      expect(res.statusCode).toBe(202);
      expect(JSON.parse(res.body).id).toBe(TODO);
      expect(res.headers.Location).toBe(`/todos/${TODO}`);
      const command = sender.sent[0];
      expect(command?.type).toBe(kind);
      expect(parseCommand(JSON.stringify(command)).ok).toBe(true);
    }
  });

  it("gives the same ids for the same Idempotency-Key and user", async () => {
    const { handle, auth } = await setup("create");
    const send = async (authorization: string) =>
      JSON.parse(
        (
          await handle(
            event("POST", "/todos", {
              headers: { ...auth, authorization, "idempotency-key": "order-42" },
              body: '{"title":"milk"}',
            }),
          )
        ).body,
      );
    const first = await send(auth.authorization);
    expect(await send(auth.authorization)).toEqual(first);
    const bob = await send(`Bearer ${await token("bob")}`);
    expect(bob.id).not.toBe(first.id);
  });

  const refusals: [
    string,
    WriteKind,
    () => Promise<Parameters<typeof event>>,
    number,
    string,
    string?,
  ][] = [
    [
      "no token",
      "create",
      async () => ["POST", "/todos", { headers: JSON_TYPE, body: '{"title":"a"}' }],
      401,
      "unauthorized",
    ],
    [
      "wrong content type",
      "create",
      async () => [
        "POST",
        "/todos",
        {
          headers: { authorization: `Bearer ${await token("a")}`, "content-type": "text/plain" },
          body: '{"title":"a"}',
        },
      ],
      415,
      "unsupported_media_type",
    ],
    [
      "invalid JSON",
      "create",
      async () => [
        "POST",
        "/todos",
        { headers: { authorization: `Bearer ${await token("a")}`, ...JSON_TYPE }, body: "{" },
      ],
      400,
      "invalid_json",
    ],
    [
      "a number title",
      "create",
      async () => [
        "POST",
        "/todos",
        {
          headers: { authorization: `Bearer ${await token("a")}`, ...JSON_TYPE },
          body: '{"title":5}',
        },
      ],
      400,
      "invalid_field",
      "title",
    ],
    [
      "an empty title",
      "create",
      async () => [
        "POST",
        "/todos",
        {
          headers: { authorization: `Bearer ${await token("a")}`, ...JSON_TYPE },
          body: '{"title":" "}',
        },
      ],
      400,
      "invalid_field",
      "title",
    ],
    [
      "no title",
      "create",
      async () => [
        "POST",
        "/todos",
        {
          headers: { authorization: `Bearer ${await token("a")}`, ...JSON_TYPE },
          body: '{"completed":true}',
        },
      ],
      400,
      "invalid_field",
      "title",
    ],
    [
      "an unknown field",
      "create",
      async () => [
        "POST",
        "/todos",
        {
          headers: { authorization: `Bearer ${await token("a")}`, ...JSON_TYPE },
          body: '{"title":"a","owner":"bob"}',
        },
      ],
      400,
      "invalid_field",
      "owner",
    ],
    [
      "a string completed",
      "update",
      async () => [
        "PATCH",
        `/todos/${TODO}`,
        {
          headers: { authorization: `Bearer ${await token("a")}`, ...JSON_TYPE },
          body: '{"completed":"yes"}',
        },
      ],
      400,
      "invalid_field",
      "completed",
    ],
    [
      "an empty update",
      "update",
      async () => [
        "PUT",
        `/todos/${TODO}`,
        { headers: { authorization: `Bearer ${await token("a")}`, ...JSON_TYPE }, body: "{}" },
      ],
      400,
      "invalid_body",
    ],
    [
      "an array body",
      "update",
      async () => [
        "PUT",
        `/todos/${TODO}`,
        { headers: { authorization: `Bearer ${await token("a")}`, ...JSON_TYPE }, body: "[]" },
      ],
      400,
      "invalid_body",
    ],
    [
      "a bad path id",
      "delete",
      async () => [
        "DELETE",
        "/todos/42",
        { headers: { authorization: `Bearer ${await token("a")}` } },
      ],
      400,
      "invalid_id",
      "id",
    ],
    [
      "a miswired method",
      "delete",
      async () => [
        "POST",
        `/todos/${TODO}`,
        { headers: { authorization: `Bearer ${await token("a")}` } },
      ],
      405,
      "method_not_allowed",
    ],
  ];
  for (const [name, kind, request, status, code, field] of refusals) {
    it(`refuses ${name} with ${status} ${code} and sends nothing`, async () => {
      const { sender, handle } = await setup(kind);
      const res = await handle(event(...(await request())));
      expect(res.statusCode).toBe(status);
      const { error } = JSON.parse(res.body);
      expect(error.code).toBe(code);
      expect(typeof error.message).toBe("string");
      expect(error.field).toBe(field);
      expect(sender.sent).toEqual([]);
    });
  }

  it("starts the Kafka connect for a request with a token, never for an anonymous one", async () => {
    let prepared = 0;
    const sender = { ...recordingSender(), prepare: () => void prepared++ };
    const handle = writeHandler("delete", deps(sender));
    await handle(event("DELETE", `/todos/${TODO}`));
    expect(prepared).toBe(0);
    const res = await handle(
      event("DELETE", `/todos/${TODO}`, {
        headers: { authorization: `Bearer ${await token("a")}` },
      }),
    );
    expect([res.statusCode, prepared]).toEqual([202, 1]);
  });

  it("answers 503 with Retry-After when Kafka does not acknowledge", async () => {
    const { handle, auth } = await setup(
      "create",
      () => new DependencyError("kafka", "took too long"),
    );
    const res = await handle(event("POST", "/todos", { headers: auth, body: '{"title":"a"}' }));
    expect(res.statusCode).toBe(503);
    expect(res.headers["Retry-After"]).toBe("7");
    expect(JSON.parse(res.body).error.code).toBe("unavailable");
  });

  it("answers a bare 500 for an unexpected failure, with no stack or message leaked", async () => {
    const { handle, auth } = await setup(
      "create",
      () => new TypeError("secret internals at x.js:1"),
    );
    const res = await handle(event("POST", "/todos", { headers: auth, body: '{"title":"a"}' }));
    expect(res.statusCode).toBe(500);
    expect(res.body).toBe('{"error":{"code":"internal","message":"internal error"}}');
  });

  it("reports each answer and each send to the write metrics", async () => {
    const seen: string[] = [];
    const metrics = {
      answered: (status: number, code?: string) => seen.push(`answered ${status} ${code ?? ""}`),
      sent: (ms: number, acknowledged: boolean) => {
        expect(ms).toBeGreaterThanOrEqual(0);
        seen.push(`sent ${acknowledged}`);
      },
    };
    const auth = { authorization: `Bearer ${await token("alice")}`, ...JSON_TYPE };
    const ok = writeHandler("create", { ...deps(recordingSender()), metrics });
    const down = writeHandler("create", {
      ...deps(recordingSender(() => new DependencyError("kafka", "down"))),
      metrics,
    });
    await ok(event("POST", "/todos", { headers: auth, body: '{"title":"milk"}' }));
    await ok(event("POST", "/todos", { headers: auth, body: '{"title":""}' }));
    await ok(event("POST", "/todos", { headers: JSON_TYPE, body: '{"title":"milk"}' }));
    await down(event("POST", "/todos", { headers: auth, body: '{"title":"milk"}' }));
    expect(seen).toEqual([
      "sent true",
      "answered 202 ",
      "answered 400 invalid_field",
      "answered 401 unauthorized",
      "sent false",
      "answered 503 unavailable",
    ]);
  });
});
