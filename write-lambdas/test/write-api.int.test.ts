import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import {
  freePort,
  freshKeyPrefix,
  freshTopics,
  testServices,
  waitUntil,
} from "@million-rps/local/testing";
import { parseCommand } from "@million-rps/shared";
import { createLogger } from "@million-rps/shared/pino-logger";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWriteServer, type WriteServer } from "../src/adapter/server";
import { messagesOn, type Received, topicReader } from "./kafka-support";

/**
 * The write API end to end: real HTTP into the local adapter, the Lambda
 * handlers, and a real Kafka broker (the test run's shared one, a topic of our own).
 */
const secret = randomBytes(32).toString("hex");
const ISSUER = "million-rps-test";
const AUDIENCE = "todos";
const ID = "0190b5e2-7c4d-7a3e-8f00-123456789abc";
const now = () => Math.floor(Date.now() / 1000);

let server: WriteServer;
let brokers: string[];
let topic: string;
let reader: Awaited<ReturnType<typeof topicReader>>;

function sign(
  claims: Record<string, unknown>,
  alg = "HS256",
  key: Uint8Array | CryptoKeyLike = new TextEncoder().encode(secret),
) {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(key);
}
type CryptoKeyLike = Parameters<SignJWT["sign"]>[0];
const claims = (sub = "alice") => ({
  sub,
  iss: ISSUER,
  aud: AUDIENCE,
  iat: now(),
  exp: now() + 300,
});
const bearer = async (sub = "alice") => `Bearer ${await sign(claims(sub))}`;

async function write(method: string, path: string, headers: Record<string, string>, body?: string) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body !== undefined && { body }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

async function onTopic(commandId: string): Promise<Received> {
  let found: Received | undefined;
  await waitUntil(`command ${commandId} on ${topic}`, () => {
    found = reader.received.find(
      (r) => r.value !== null && JSON.parse(r.value).command_id === commandId,
    );
    return found !== undefined;
  });
  if (found === undefined) throw new Error("unreachable");
  return found;
}

beforeAll(async () => {
  brokers = testServices().kafkaBrokers;
  ({ topic } = await freshTopics(3));
  server = await startWriteServer({
    port: 0,
    requestTimeoutMs: 1500,
    env: {
      KAFKA_BROKERS: brokers.join(","),
      KAFKA_TODO_TOPIC: topic,
      JWT_SECRET: secret,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      REDIS_URL: testServices().redisUrl,
      CACHE_KEY_PREFIX: freshKeyPrefix(),
      LOG_LEVEL: "error",
    },
    log: createLogger("write-http-test", { level: "error" }),
  });
  reader = await topicReader(brokers, topic);
});

afterAll(async () => {
  await reader?.stop();
  await server?.close();
});

describe("accepted writes", () => {
  it("POST puts a create command on the topic, keyed by the todo id, before answering 202", async () => {
    const before = await messagesOn(brokers, topic);
    const res = await write(
      "POST",
      "/todos",
      { authorization: await bearer(), "content-type": "application/json" },
      '{"title":"buy milk","description":"2 litres"}',
    );
    expect(res.status).toBe(202);
    // Acknowledged by Kafka before the answer: the high watermark has already moved.
    expect(await messagesOn(brokers, topic)).toBe(before + 1);
    const body = res.json();
    expect(body).toEqual({
      command_id: expect.any(String),
      id: expect.any(String),
      status: "accepted",
    });
    expect(res.headers.get("location")).toBe(`/todos/${body.id}`);
    const record = await onTopic(body.command_id);
    expect(record.key).toBe(body.id);
    const parsed = parseCommand(record.value);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(parsed.value).toEqual({
      v: 1,
      command_id: body.command_id,
      type: "create",
      todo_id: body.id,
      actor: "alice",
      data: { title: "buy milk", description: "2 litres", completed: false },
      issued_at: expect.any(String),
    });
    expect(Math.abs(Date.parse(parsed.value.issued_at) - Date.now())).toBeLessThan(60_000);
  });

  it("PUT, PATCH and DELETE land on the same partition as each other, keyed by the path id", async () => {
    const auth = { authorization: await bearer("bob"), "content-type": "application/json" };
    const ids: string[] = [];
    for (const [method, body] of [
      ["PUT", '{"title":"t2"}'],
      ["PATCH", '{"completed":true}'],
      ["DELETE", undefined],
    ] as const) {
      const res = await write(method, `/todos/${ID}`, auth, body);
      expect(res.status).toBe(202);
      expect(res.json().id).toBe(ID);
      ids.push(res.json().command_id);
    }
    const records = await Promise.all(ids.map(onTopic));
    expect(records.map((r) => r.key)).toEqual([ID, ID, ID]);
    expect(new Set(records.map((r) => r.partition)).size).toBe(1);
    expect(records.map((r) => JSON.parse(r.value ?? "").type)).toEqual([
      "update",
      "update",
      "delete",
    ]);
    expect(JSON.parse(records[1]?.value ?? "").data).toEqual({ completed: true });
  });

  it("the same Idempotency-Key twice: the second replays the first 202 and sends nothing", async () => {
    const headers = {
      authorization: await bearer(),
      "content-type": "application/json",
      "idempotency-key": `k-${randomBytes(4).toString("hex")}`,
    };
    const first = await write("POST", "/todos", headers, '{"title":"once"}');
    await onTopic(first.json().command_id);
    // A 202 is sent only after the ack: had the retry been sent, the topic would have grown.
    const before = await messagesOn(brokers, topic);
    const second = await write("POST", "/todos", headers, '{"title":"once"}');
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.json()).toEqual(first.json());
    expect(second.headers.get("location")).toBe(first.headers.get("location"));
    expect(await messagesOn(brokers, topic)).toBe(before);
    const changed = await write("POST", "/todos", headers, '{"title":"twice"}');
    expect(changed.status).toBe(422);
    expect(await messagesOn(brokers, topic)).toBe(before);
    const other = await write(
      "POST",
      "/todos",
      { ...headers, authorization: await bearer("carol") },
      '{"title":"once"}',
    );
    expect(other.json().id).not.toBe(first.json().id);
  });
});

describe("refused writes: a JSON error, the right status, nothing on the topic", () => {
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  beforeAll(async () => {
    rsa = await generateKeyPair("RS256");
  });

  /** Sends a request and checks the answer and that the topic did not grow. */
  async function refused(
    status: number,
    send: () => Promise<{ status: number; headers: Headers; text: string }>,
  ) {
    const before = await messagesOn(brokers, topic);
    const res = await send();
    expect(res.status).toBe(status);
    const body = JSON.parse(res.text);
    expect(body).toEqual({
      error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
    });
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await messagesOn(brokers, topic)).toBe(before);
    return { ...res, error: body.error };
  }

  const unsecured = (c: object) => {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    return `${part({ alg: "none", typ: "JWT" })}.${part(c)}.`;
  };
  const jwtCases: [string, () => Promise<Record<string, string>>][] = [
    ["no Authorization header", async () => ({})],
    ["a non-bearer scheme", async () => ({ authorization: "Basic YWxpY2U6cGFzcw==" })],
    ["a malformed token", async () => ({ authorization: "Bearer abc.def" })],
    ["an empty bearer token", async () => ({ authorization: "Bearer " })],
    [
      "a wrong signature",
      async () => ({ authorization: `Bearer ${await sign(claims(), "HS256", randomBytes(32))}` }),
    ],
    ["alg none", async () => ({ authorization: `Bearer ${unsecured(claims())}` })],
    [
      "an RS256 token (HS/RS confusion)",
      async () => ({ authorization: `Bearer ${await sign(claims(), "RS256", rsa.privateKey)}` }),
    ],
    [
      "an expired token",
      async () => ({ authorization: `Bearer ${await sign({ ...claims(), exp: now() - 120 })}` }),
    ],
    [
      "a token not yet valid",
      async () => ({ authorization: `Bearer ${await sign({ ...claims(), nbf: now() + 120 })}` }),
    ],
    [
      "a wrong issuer",
      async () => ({ authorization: `Bearer ${await sign({ ...claims(), iss: "someone-else" })}` }),
    ],
    [
      "a wrong audience",
      async () => ({ authorization: `Bearer ${await sign({ ...claims(), aud: "billing" })}` }),
    ],
    [
      "no sub",
      async () => ({ authorization: `Bearer ${await sign({ ...claims(), sub: undefined })}` }),
    ],
    [
      "no exp",
      async () => ({ authorization: `Bearer ${await sign({ ...claims(), exp: undefined })}` }),
    ],
  ];
  for (const [name, headers] of jwtCases) {
    it(`401 with WWW-Authenticate for ${name}`, async () => {
      const res = await refused(401, async () =>
        write(
          "POST",
          "/todos",
          { ...(await headers()), "content-type": "application/json" },
          '{"title":"x"}',
        ),
      );
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="todos"/);
    });
  }

  const json = async () => ({
    authorization: await bearer("mallory"),
    "content-type": "application/json",
  });
  const bodyCases: [
    string,
    number,
    string | null,
    () => Promise<[string, string, Record<string, string>, string?]>,
  ][] = [
    ["invalid JSON", 400, null, async () => ["POST", "/todos", await json(), '{"title": "x"']],
    [
      "a title of the wrong type",
      400,
      "title",
      async () => ["POST", "/todos", await json(), '{"title": 42}'],
    ],
    [
      "completed of the wrong type",
      400,
      "completed",
      async () => ["POST", "/todos", await json(), '{"title":"x","completed":"yes"}'],
    ],
    [
      "description of the wrong type",
      400,
      "description",
      async () => ["POST", "/todos", await json(), '{"title":"x","description":null}'],
    ],
    ["an empty title", 400, "title", async () => ["POST", "/todos", await json(), '{"title":""}']],
    [
      "a title of 201 characters",
      400,
      "title",
      async () => ["POST", "/todos", await json(), JSON.stringify({ title: "x".repeat(201) })],
    ],
    [
      "a description of 2001 characters",
      400,
      "description",
      async () => [
        "POST",
        "/todos",
        await json(),
        JSON.stringify({ title: "x", description: "d".repeat(2001) }),
      ],
    ],
    [
      "an unknown field",
      400,
      "user_id",
      async () => ["POST", "/todos", await json(), '{"title":"x","user_id":"alice"}'],
    ],
    ["a JSON array", 400, null, async () => ["POST", "/todos", await json(), "[]"]],
    ["an empty body", 400, null, async () => ["POST", "/todos", await json(), ""]],
    ["an empty update", 400, null, async () => ["PATCH", `/todos/${ID}`, await json(), "{}"]],
    [
      "a body of 17 KiB",
      413,
      null,
      async () => [
        "POST",
        "/todos",
        await json(),
        JSON.stringify({ title: "x", description: "d".repeat(17 * 1024) }),
      ],
    ],
    [
      "a body of 2 MiB",
      413,
      null,
      async () => ["POST", "/todos", await json(), "x".repeat(2 * 1024 * 1024)],
    ],
    [
      "text/plain",
      415,
      null,
      async () => [
        "POST",
        "/todos",
        { ...(await json()), "content-type": "text/plain" },
        '{"title":"x"}',
      ],
    ],
    [
      "no content type",
      415,
      null,
      async () => [
        "PUT",
        `/todos/${ID}`,
        { authorization: await bearer("mallory") },
        '{"title":"x"}',
      ],
    ],
    ["a path id that is not a UUID", 400, "id", async () => ["DELETE", "/todos/123", await json()]],
    [
      "a path id with SQL in it",
      400,
      "id",
      async () => [
        "PATCH",
        `/todos/${encodeURIComponent("1' OR '1'='1")}`,
        await json(),
        '{"title":"x"}',
      ],
    ],
    [
      "an overlong Idempotency-Key",
      400,
      "Idempotency-Key",
      async () => [
        "POST",
        "/todos",
        { ...(await json()), "idempotency-key": "k".repeat(256) },
        '{"title":"x"}',
      ],
    ],
    ["an unknown path", 404, null, async () => ["POST", "/todo", await json(), '{"title":"x"}']],
    ["a read method on a write path", 405, null, async () => ["GET", "/todos", await json()]],
  ];
  for (const [name, status, field, request] of bodyCases) {
    it(`${status} for ${name}`, async () => {
      const [method, path, headers, body] = await request();
      const res = await refused(status, () => write(method, path, headers, body));
      if (field !== null) expect(res.error.field).toBe(field);
      if (status === 405) expect(res.headers.get("allow")).toBe("POST");
    });
  }

  it("answers 431 to a huge header or URL and 408 to a slow client, and keeps serving", async () => {
    const status = (path: string, headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${server.url}${path}`, { method: "POST", headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
    expect(await status("/todos", { "x-big": "h".repeat(64 * 1024) })).toBe(431);
    expect(await status(`/todos/${"a".repeat(64 * 1024)}`, {})).toBe(431);
    const slow = await new Promise<string>((resolve) => {
      const socket = connect(server.port, "127.0.0.1", () => {
        socket.write("POST /todos HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
      });
      let answer = "";
      socket.on("data", (d) => {
        answer += d.toString();
      });
      socket.on("close", () => resolve(answer));
      socket.on("error", () => resolve(answer));
    });
    expect(slow).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(slow.slice(slow.indexOf("\r\n\r\n") + 4)).error.code).toBe("request_timeout");
    const res = await write("POST", "/todos", await json(), '{"title":"still alive"}');
    expect(res.status).toBe(202);
  });
});

describe("the idempotency store down, and too many writes in flight", () => {
  it("with a key and Redis unreachable: 503 with Retry-After in bounded time, nothing sent; without a key: 202", async () => {
    const down = await startWriteServer({
      port: 0,
      env: {
        KAFKA_BROKERS: brokers.join(","),
        KAFKA_TODO_TOPIC: topic,
        JWT_SECRET: secret,
        REDIS_URL: `redis://127.0.0.1:${await freePort()}/0`,
        REDIS_TIMEOUT_MS: "300",
        WRITE_RETRY_AFTER_SEC: "4",
        LOG_LEVEL: "error",
      },
      log: createLogger("write-http-test", { level: "error", write: () => {} }),
    });
    try {
      const headers = {
        authorization: await bearer(),
        "content-type": "application/json",
        "idempotency-key": `k-${randomBytes(4).toString("hex")}`,
      };
      const before = await messagesOn(brokers, topic);
      for (let i = 0; i < 2; i++) {
        const t0 = performance.now();
        const res = await fetch(`${down.url}/todos`, {
          method: "POST",
          headers,
          body: '{"title":"keyed"}',
        });
        expect([res.status, res.headers.get("retry-after")]).toEqual([503, "4"]);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unavailable");
        expect(performance.now() - t0).toBeLessThan(3000);
      }
      expect(await messagesOn(brokers, topic), "nothing sent for a key we cannot check").toBe(
        before,
      );
      const { "idempotency-key": _, ...plain } = headers;
      const res = await fetch(`${down.url}/todos`, {
        method: "POST",
        headers: plain,
        body: '{"title":"no key"}',
      });
      expect(res.status).toBe(202);
    } finally {
      await down.close();
    }
  });

  it("the local adapter answers 503 overloaded past WRITE_MAX_IN_FLIGHT, and serves again after", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let sending = 0;
    const busy = await startWriteServer({
      port: 0,
      env: { JWT_SECRET: secret, WRITE_MAX_IN_FLIGHT: "2", WRITE_RETRY_AFTER_SEC: "3" },
      // Held sends: the two writes stay in flight until released.
      sender: {
        send: () => {
          sending++;
          return gate;
        },
        close: async () => {},
      },
      log: createLogger("write-http-test", { level: "error", write: () => {} }),
    });
    try {
      const authorization = await bearer();
      const post = () =>
        fetch(`${busy.url}/todos`, {
          method: "POST",
          headers: { authorization, "content-type": "application/json" },
          body: '{"title":"x"}',
        });
      const held = [post(), post()];
      await waitUntil("two writes in flight", () => sending === 2);
      const over = await post();
      expect([over.status, over.headers.get("retry-after")]).toEqual([503, "3"]);
      expect(((await over.json()) as { error: { code: string } }).error.code).toBe("overloaded");
      release();
      expect((await Promise.all(held)).map((r) => r.status)).toEqual([202, 202]);
      expect((await post()).status).toBe(202);
    } finally {
      release();
      await busy.close();
    }
  });
});
