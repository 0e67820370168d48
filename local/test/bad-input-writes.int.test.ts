import { rmSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answers200, type RunningApp, startApp } from "../src/apps";
import { dataDir } from "../src/paths";
import { freePort, waitUntil } from "../src/testing";
import { startTestStack, type TestStack } from "../src/testing/test-stack";
import {
  AUDIENCE,
  type AuthCase,
  hs256Cases,
  type IdentityProvider,
  ISSUER,
  startIdentityProvider,
} from "./support/jwt-attacks";
import { rawExchange } from "./support/raw-http";
import { commandIdsOnTopic } from "./support/topic-commands";

// Hostile and broken writes, through the local adapter and the real Lambda
// handlers: every bad token is a 401 with WWW-Authenticate, every bad body a
// 400/413/415 with a JSON error, another user's todo stays untouched, and
// nothing but the writes answered 202 ever reaches Kafka.

const profile = `test-${process.pid}-bad-writes-jwks`;
let stack: TestStack | undefined;
let idp: IdentityProvider | undefined;
/** A second write adapter that trusts the local identity provider's JWKS. */
let jwksApi: RunningApp | undefined;
let write = "";
let writeJwks = "";
let alice = "";
/** Command ids of every write answered 202 in this file: exactly what Kafka may hold. */
const accepted: string[] = [];

beforeAll(async () => {
  idp = await startIdentityProvider();
  stack = await startTestStack({ name: "bad-writes" });
  write = stack.writeUrl;
  alice = await stack.token("alice");
  const port = await freePort();
  writeJwks = `http://127.0.0.1:${port}`;
  const { JWT_SECRET: _, ...env } = stack.env;
  jwksApi = await startApp(
    {
      name: "write-api-jwks",
      entry: "write-lambdas/src/adapter/main.ts",
      env: {
        ...env,
        WRITE_HTTP_PORT: String(port),
        JWKS_URL: idp.jwksUrl,
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
      },
      ready: () => answers200(`${writeJwks}/healthz`),
    },
    profile,
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([stack?.stop(), jwksApi?.stop(), idp?.close()]);
  rmSync(dataDir(profile), { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Headers;
  json: { error?: { code?: unknown; message?: unknown }; command_id?: string; id?: string };
}

async function send(
  base: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: init.headers ?? {},
    ...(init.body !== undefined && { body: init.body }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: Answer["json"];
  try {
    json = JSON.parse(text) as Answer["json"];
  } catch {
    throw new Error(
      `${method} ${path} -> ${res.status} without a JSON body: ${text.slice(0, 200)}`,
    );
  }
  if (res.status === 202 && json.command_id !== undefined) accepted.push(json.command_id);
  return { status: res.status, headers: res.headers, json };
}

function expectJsonError(answer: Answer, status: number, what: string): void {
  expect(answer.status, `${what}: ${JSON.stringify(answer.json)}`).toBe(status);
  expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
  expect(typeof answer.json.error?.code, what).toBe("string");
  expect(typeof answer.json.error?.message, what).toBe("string");
}

const ROUTES = [
  { method: "POST", path: () => "/todos", body: '{"title":"should never be accepted"}' },
  { method: "PATCH", path: () => `/todos/${crypto.randomUUID()}`, body: '{"completed":true}' },
  { method: "DELETE", path: () => `/todos/${crypto.randomUUID()}`, body: undefined },
];

async function expectRefused(base: string, cases: AuthCase[]): Promise<void> {
  for (const route of ROUTES) {
    for (const c of cases) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (c.authorization !== undefined) headers.authorization = c.authorization;
      const answer = await send(base, route.method, route.path(), {
        headers,
        ...(route.body !== undefined && { body: route.body }),
      });
      const what = `${route.method} with ${c.name}`;
      expectJsonError(answer, 401, what);
      expect(answer.headers.get("www-authenticate"), what).toMatch(/^Bearer realm="todos"/);
    }
  }
}

describe("JWT", () => {
  it("HS256 (JWT_SECRET): a valid token is accepted, every attack is a 401", async () => {
    const ok = await send(write, "POST", "/todos", {
      headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
      body: '{"title":"control: a valid token"}',
    });
    expect(ok.status).toBe(202);
    await expectRefused(write, await hs256Cases(stack?.env.JWT_SECRET ?? ""));
  });

  it("JWKS with issuer and audience: a valid token is accepted, every attack is a 401", async () => {
    const token = await idp?.token("jwks-user");
    const ok = await send(writeJwks, "POST", "/todos", {
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: '{"title":"control: a valid JWKS token"}',
    });
    expect(ok.status, JSON.stringify(ok.json)).toBe(202);
    await expectRefused(writeJwks, (await idp?.attackCases()) ?? []);
  });
});

interface BodyCase {
  name: string;
  body: string | Buffer;
  contentType?: string;
  status: number;
}

const DESCRIPTION_MAX = 2000;
const BODY_CASES: BodyCase[] = [
  { name: "invalid JSON", body: '{"title":', status: 400 },
  { name: "not JSON at all", body: "title=x", status: 400 },
  { name: "JSON followed by garbage", body: '{"title":"x"} trailing', status: 400 },
  { name: "invalid UTF-8", body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), status: 400 },
  { name: "empty body", body: "", status: 400 },
  { name: "a JSON array", body: '[{"title":"x"}]', status: 400 },
  { name: "a JSON string", body: '"x"', status: 400 },
  { name: "JSON null", body: "null", status: 400 },
  { name: "title a number", body: '{"title":42}', status: 400 },
  { name: "title null", body: '{"title":null}', status: 400 },
  { name: "title an object", body: '{"title":{"$ne":""}}', status: 400 },
  { name: "completed a string", body: '{"title":"x","completed":"yes"}', status: 400 },
  { name: "description a number", body: '{"title":"x","description":5}', status: 400 },
  { name: "empty title", body: '{"title":""}', status: 400 },
  { name: "blank title", body: '{"title":" \\t\\n "}', status: 400 },
  {
    name: "title of 201 characters",
    body: JSON.stringify({ title: "t".repeat(201) }),
    status: 400,
  },
  {
    name: "title of 201 emoji",
    body: JSON.stringify({ title: "\u{1F600}".repeat(201) }),
    status: 400,
  },
  {
    name: "description too long",
    body: JSON.stringify({ title: "x", description: "d".repeat(DESCRIPTION_MAX + 1) }),
    status: 400,
  },
  { name: "unknown field", body: '{"title":"x","priority":1}', status: 400 },
  { name: "user_id smuggled in", body: '{"title":"x","user_id":"victim"}', status: 400 },
  { name: "id smuggled in", body: `{"title":"x","id":"${crypto.randomUUID()}"}`, status: 400 },
  { name: "__proto__ key", body: '{"title":"x","__proto__":{"admin":true}}', status: 400 },
  {
    name: "body over 16 KiB",
    body: JSON.stringify({ title: "x", description: "d".repeat(17 * 1024) }),
    status: 413,
  },
  { name: "text/plain", body: '{"title":"x"}', contentType: "text/plain", status: 415 },
  { name: "no Content-Type", body: '{"title":"x"}', contentType: "", status: 415 },
  {
    name: "form encoded",
    body: "title=x",
    contentType: "application/x-www-form-urlencoded",
    status: 415,
  },
  {
    name: "JSON in latin1",
    body: '{"title":"x"}',
    contentType: "application/json; charset=latin1",
    status: 415,
  },
  {
    name: "multipart",
    body: "--b\r\n\r\nx\r\n--b--",
    contentType: "multipart/form-data; boundary=b",
    status: 415,
  },
];

describe("bodies", () => {
  for (const method of ["POST", "PUT", "PATCH"] as const) {
    it(`${method}: every bad body is a JSON 400/413/415`, async () => {
      for (const c of BODY_CASES) {
        const headers: Record<string, string> = { authorization: `Bearer ${alice}` };
        const type = c.contentType ?? "application/json";
        if (type !== "") headers["content-type"] = type;
        const path = method === "POST" ? "/todos" : `/todos/${crypto.randomUUID()}`;
        // fetch labels a string body text/plain when no type is given; bytes go unlabelled.
        const body = type === "" ? Buffer.from(c.body) : c.body;
        expectJsonError(await send(write, method, path, { headers, body }), c.status, c.name);
      }
      if (method !== "POST") {
        const headers = { authorization: `Bearer ${alice}`, "content-type": "application/json" };
        const empty = await send(write, method, `/todos/${crypto.randomUUID()}`, {
          headers,
          body: "{}",
        });
        expectJsonError(empty, 400, "an update that sets nothing");
      }
    });
  }

  it("bodies over the adapter's 1 MiB cap: a 413 (or, mid-upload, a close), on every route", async () => {
    if (stack === undefined) throw new Error("no stack");
    const port = Number(new URL(write).port);
    const head = (method: string, path: string, extra: string) =>
      `${method} ${path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${alice}\r\nContent-Type: application/json\r\n${extra}\r\n`;
    // Announced: refused before any of the body is read, so the 413 always arrives.
    for (const [method, path] of [
      ["POST", "/todos"],
      ["PATCH", `/todos/${crypto.randomUUID()}`],
      ["DELETE", `/todos/${crypto.randomUUID()}`],
    ] as const) {
      const x = await rawExchange(port, head(method, path, "Content-Length: 2097152\r\n"), {
        waitMs: 10_000,
        expectResponses: 1,
      });
      expect(
        x.responses.map((r) => r.status),
        method,
      ).toEqual([413]);
      expect(JSON.parse(x.responses[0]?.body ?? "")).toMatchObject({
        error: { code: "payload_too_large" },
      });
    }
    // Chunked, no length: the adapter counts while reading and answers 413 past the cap. The
    // client is still uploading then, so the 413 may be lost to the reset that follows the close.
    const chunk = `10000\r\n${" ".repeat(0x10000)}\r\n`;
    const x = await rawExchange(
      port,
      `${head("POST", "/todos", "Transfer-Encoding: chunked\r\n")}${chunk.repeat(32)}0\r\n\r\n`,
      { waitMs: 15_000, expectResponses: 1 },
    );
    expect(
      x.responses.every((r) => r.status === 413),
      `got ${x.responses.map((r) => r.status)}`,
    ).toBe(true);
    expect(x.responses.length > 0 || x.closedByServer).toBe(true);
  });

  it("a bad Idempotency-Key is a 400", async () => {
    for (const key of ["k".repeat(256), "caf\u00e9", "tab\there"]) {
      const res = await send(write, "POST", "/todos", {
        headers: {
          authorization: `Bearer ${alice}`,
          "content-type": "application/json",
          "idempotency-key": key,
        },
        body: '{"title":"x"}',
      });
      expectJsonError(res, 400, `Idempotency-Key ${JSON.stringify(key.slice(0, 20))}`);
    }
  });
});

describe("ownership", () => {
  it("another user's update and delete are accepted, then rejected as forbidden; the todo is unchanged", async () => {
    if (stack === undefined) throw new Error("no stack");
    const read = stack.readUrl;
    const owner = { authorization: `Bearer ${alice}`, "content-type": "application/json" };
    const created = await send(write, "POST", "/todos", {
      headers: { ...owner, "idempotency-key": "ownership-1" },
      body: '{"title":"alice\'s todo","description":"mine"}',
    });
    expect(created.status).toBe(202);
    const id = created.json.id ?? "";
    const outcome = async (commandId: string) => {
      let status = "pending";
      let reason: unknown = null;
      await waitUntil(
        `command ${commandId} recorded`,
        async () => {
          const body = (await (await fetch(`${read}/commands/${commandId}`)).json()) as {
            status: string;
            reason?: unknown;
          };
          ({ status } = body);
          reason = body.reason ?? null;
          return status !== "pending";
        },
        { timeoutMs: 15_000 },
      );
      return { status, reason };
    };
    expect(await outcome(created.json.command_id ?? "")).toEqual({
      status: "applied",
      reason: null,
    });

    const bob = await stack.token("bob");
    const intruder = { authorization: `Bearer ${bob}`, "content-type": "application/json" };
    // Bob reusing Alice's Idempotency-Key gets a command of his own, not hers.
    const hijack = await send(write, "POST", "/todos", {
      headers: { ...intruder, "idempotency-key": "ownership-1" },
      body: '{"title":"bob\'s"}',
    });
    expect(hijack.status).toBe(202);
    expect(hijack.json.id).not.toBe(id);
    for (const [method, body] of [
      ["PUT", '{"title":"hijacked","description":"","completed":true}'],
      ["PATCH", '{"title":"hijacked"}'],
      ["DELETE", undefined],
    ] as const) {
      const answer = await send(write, method, `/todos/${id}`, {
        headers: intruder,
        ...(body !== undefined && { body }),
      });
      expect(answer.status, method).toBe(202);
      expect(await outcome(answer.json.command_id ?? ""), method).toEqual({
        status: "rejected",
        reason: "forbidden",
      });
    }
    const todo = (await (await fetch(`${read}/todos/${id}`)).json()) as Record<string, unknown>;
    expect(todo).toMatchObject({
      id,
      title: "alice's todo",
      description: "mine",
      user_id: "alice",
    });
    const db = new pg.Client({ connectionString: stack.services.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query("SELECT title, completed, version FROM todos WHERE id = $1", [
        id,
      ]);
      expect(rows).toEqual([{ title: "alice's todo", completed: false, version: "1" }]);
    } finally {
      await db.end();
    }
  });
});

describe("Kafka", () => {
  it("holds exactly the writes answered 202, nothing from a refused request", async () => {
    if (stack === undefined) throw new Error("no stack");
    expect(accepted.length).toBeGreaterThan(0);
    const onTopic = await commandIdsOnTopic(stack.services.kafkaBrokers, stack.services.topic);
    expect(onTopic).toEqual([...accepted].sort());
  });
});
