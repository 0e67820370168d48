import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { issueCommandId } from "@million-rps/shared";
import { DEV_COMMAND_ID_SECRET } from "@million-rps/shared/config";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answers200, type RunningApp, startApp } from "../src/apps";
import { dataDir } from "../src/paths";
import { freePort, freshKeyPrefix, testServices, waitUntil } from "../src/testing";
import { startTestStack, TEST_JWT_SECRET, type TestStack } from "../src/testing/test-stack";
import { OpenApiContract } from "./support/openapi-contract";
import { observed, rawExchange } from "./support/raw-http";

// Every operation of shared/openapi.yaml against the real native stack: each
// response (status, required headers, JSON body) must conform to the document,
// and by the end every documented status of every operation must have been seen,
// so neither the code nor the document can drift without this failing.

const contract = new OpenApiContract();
const SEEDED = 150;
const profile = `test-${process.pid}-contract-dead`;

let stack: TestStack | undefined;
/** A read fleet whose Postgres and Redis do not exist: its 503s. */
let deadReads: RunningApp | undefined;
/** A write adapter whose Kafka does not exist (its Redis does): its 503s, and a 409 while a keyed write waits. */
let deadWrites: RunningApp | undefined;
let read = "";
let write = "";
let readDown = "";
let writeDown = "";
let token = "";

async function startDeadDependencyApps(): Promise<void> {
  const [readPort, readAdmin, writePort, nothing] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  readDown = `http://127.0.0.1:${readPort}`;
  writeDown = `http://127.0.0.1:${writePort}`;
  const common = {
    DATABASE_URL: `postgres://postgres@127.0.0.1:${nothing}/none`,
    REDIS_URL: `redis://127.0.0.1:${nothing}/0`,
    KAFKA_BROKERS: `127.0.0.1:${nothing}`,
    KAFKA_TODO_TOPIC: "todo-commands-nowhere",
    LOG_LEVEL: "error",
  };
  [deadReads, deadWrites] = await Promise.all([
    startApp(
      {
        name: "read-fleet-no-deps",
        entry: "read-fleet/src/main.ts",
        env: {
          ...common,
          HTTP_PORT: String(readPort),
          ADMIN_PORT: String(readAdmin),
          READ_PROCESSES: "1",
          DB_TIMEOUT_MS: "300",
          REDIS_TIMEOUT_MS: "100",
        },
        // Never ready (that is the point): live is enough.
        ready: () => answers200(`${readDown}/healthz`),
      },
      profile,
    ),
    startApp(
      {
        name: "write-api-no-kafka",
        entry: "write-lambdas/src/adapter/main.ts",
        env: {
          ...common,
          WRITE_HTTP_PORT: String(writePort),
          JWT_SECRET: TEST_JWT_SECRET,
          KAFKA_SEND_TIMEOUT_MS: "500",
          REDIS_URL: testServices().redisUrl,
          CACHE_KEY_PREFIX: freshKeyPrefix(),
        },
        ready: () => answers200(`${writeDown}/healthz`),
      },
      profile,
    ),
  ]);
}

beforeAll(async () => {
  [stack] = await Promise.all([
    startTestStack({ name: "contract", seed: SEEDED }),
    startDeadDependencyApps(),
  ]);
  read = stack.readUrl;
  write = stack.writeUrl;
  token = await stack.token("contract-user");
}, 120_000);

afterAll(async () => {
  await Promise.all([stack?.stop(), deadReads?.stop(), deadWrites?.stop()]);
  rmSync(dataDir(profile), { recursive: true, force: true });
});

interface Call {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** Sends the request, checks the answer against the document for `operationId`, returns it. */
async function call(
  operationId: string,
  url: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
): Promise<Call> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  const problems = contract.problems(operationId, {
    status: res.status,
    headers: res.headers,
    body: text,
  });
  expect(problems, `${init.method ?? "GET"} ${url} -> ${res.status} ${text.slice(0, 300)}`).toEqual(
    [],
  );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function writeInit(method: string, body: unknown, extra: Record<string, string> = {}) {
  return {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      ...extra,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

interface TodoJson {
  id: string;
  created_at: string;
}

describe("read API", () => {
  it("GET/HEAD /todos: pages, Link, 304, 400, 503", async () => {
    const first = await call("listTodos", `${read}/todos`);
    expect(first.status).toBe(200);
    expect((first.json as TodoJson[]).length).toBe(100);

    const small = await call("listTodos", `${read}/todos?limit=2`);
    const link = small.headers.get("link") ?? "";
    const next = /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
    expect(next, "a full page links to the next one").toBeDefined();
    const second = await call("listTodos", `${read}${next}`);
    const [a, b] = small.json as TodoJson[];
    const [c] = second.json as TodoJson[];
    expect(c && b && a && c.created_at < b.created_at && b.created_at < a.created_at).toBe(true);

    const last = await call("listTodos", `${read}/todos?limit=1000`);
    expect((last.json as TodoJson[]).length).toBe(SEEDED);
    expect(last.headers.get("link"), "no next link on the last page").toBeNull();

    const etag = first.headers.get("etag") ?? "";
    const notModified = await call("listTodos", `${read}/todos`, {
      headers: { "if-none-match": etag },
    });
    expect(notModified.status).toBe(304);
    expect((await call("listTodos", `${read}/todos?limit=0`)).status).toBe(400);

    const head = await call("headTodos", `${read}/todos`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toBe(etag);
    // fetch negotiates gzip/br and decodes: compare the length of the same encoding.
    expect(head.headers.get("content-length")).toBe(first.headers.get("content-length"));
    const plain = await call("headTodos", `${read}/todos`, {
      method: "HEAD",
      headers: { "accept-encoding": "identity" },
    });
    expect(Number(plain.headers.get("content-length"))).toBe(Buffer.byteLength(first.text));
    const headNext = await call("headTodos", `${read}/todos?limit=2`, { method: "HEAD" });
    expect(headNext.headers.get("link")).toBe(link);
    expect(
      (
        await call("headTodos", `${read}/todos`, {
          method: "HEAD",
          headers: { "if-none-match": etag },
        })
      ).status,
    ).toBe(304);
    expect((await call("headTodos", `${read}/todos?limit=abc`, { method: "HEAD" })).status).toBe(
      400,
    );

    expect((await call("listTodos", `${readDown}/todos`)).status).toBe(503);
    expect((await call("headTodos", `${readDown}/todos`, { method: "HEAD" })).status).toBe(503);
  });

  it("GET/HEAD /todos/{id}: 200, 304, 400, 404, 503", async () => {
    const [todo] = (await call("listTodos", `${read}/todos?limit=1`)).json as TodoJson[];
    const url = `${read}/todos/${todo?.id}`;
    const one = await call("getTodo", url);
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ id: todo?.id });
    const etag = one.headers.get("etag") ?? "";
    expect((await call("getTodo", url, { headers: { "if-none-match": etag } })).status).toBe(304);
    expect((await call("getTodo", `${read}/todos/not-a-uuid`)).status).toBe(400);
    expect((await call("getTodo", `${read}/todos/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await call("getTodo", `${readDown}/todos/${crypto.randomUUID()}`)).status).toBe(503);

    const head = await call("headTodo", url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(one.headers.get("content-length"));
    const headers = { "if-none-match": etag };
    expect((await call("headTodo", url, { method: "HEAD", headers })).status).toBe(304);
    expect((await call("headTodo", `${read}/todos/NOPE`, { method: "HEAD" })).status).toBe(400);
    const unknown = `${read}/todos/${crypto.randomUUID()}`;
    expect((await call("headTodo", unknown, { method: "HEAD" })).status).toBe(404);
    const down = `${readDown}/todos/${crypto.randomUUID()}`;
    expect((await call("headTodo", down, { method: "HEAD" })).status).toBe(503);
  });

  it("GET/HEAD /commands/{id}: pending, 400, 404, 503 (applied: see the write tests)", async () => {
    // An id as the write API issues it (the stack runs with the dev COMMAND_ID_SECRET), never sent.
    const id = issueCommandId(new TextEncoder().encode(DEV_COMMAND_ID_SECRET));
    const pending = await call("getCommand", `${read}/commands/${id}`);
    expect(pending.json).toEqual({ command_id: id, status: "pending" });
    expect(pending.headers.get("cache-control")).toBe("no-store");
    expect((await call("getCommand", `${read}/commands/123`)).status).toBe(400);
    const neverIssued = crypto.randomUUID();
    expect((await call("getCommand", `${read}/commands/${neverIssued}`)).status).toBe(404);
    expect((await call("getCommand", `${readDown}/commands/${id}`)).status).toBe(503);
    const head = { method: "HEAD" };
    expect((await call("headCommand", `${read}/commands/${id}`, head)).status).toBe(200);
    expect((await call("headCommand", `${read}/commands/xyz`, head)).status).toBe(400);
    expect((await call("headCommand", `${read}/commands/${neverIssued}`, head)).status).toBe(404);
    expect((await call("headCommand", `${readDown}/commands/${id}`, head)).status).toBe(503);
  });

  it("GET /commands/{id}: a command the database refused ends rejected as invalid", async () => {
    // A valid write the database refuses (here: a constraint only this test adds, as a
    // later schema change might): the worker dead-letters it, records it, and the read
    // fleet shows the final status.
    const services = stack?.services;
    if (services === undefined) throw new Error("no stack");
    const db = new pg.Client({ connectionString: services.databaseUrl });
    await db.connect();
    try {
      await db.query(
        "ALTER TABLE todos ADD CONSTRAINT contract_refused CHECK (title <> 'refused by the database')",
      );
    } finally {
      await db.end();
    }
    const accepted = await call(
      "createTodo",
      `${write}/todos`,
      writeInit("POST", { title: "refused by the database" }),
    );
    expect(accepted.status).toBe(202);
    const { command_id: commandId, id } = accepted.json as { command_id: string; id: string };
    let status: Call | undefined;
    await waitUntil(
      "the refused command to be recorded",
      async () => {
        status = await call("getCommand", `${read}/commands/${commandId}`);
        return (status.json as { status: string }).status !== "pending";
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(status?.json).toEqual({
      command_id: commandId,
      status: "rejected",
      reason: "invalid",
      todo_id: id,
      type: "create",
      recorded_at: expect.stringMatching(/Z$/),
    });
    expect(status?.headers.get("cache-control")).toMatch(/immutable/);
    expect((await call("getTodo", `${read}/todos/${id}`)).status).toBe(404);
  });

  it("health and readiness, GET and HEAD, on the read fleet and the write adapter", async () => {
    for (const base of [read, write]) {
      expect((await call("healthz", `${base}/healthz`)).json).toEqual({ status: "ok" });
      expect((await call("headHealthz", `${base}/healthz`, { method: "HEAD" })).status).toBe(200);
    }
    expect((await call("readyz", `${read}/readyz`)).json).toMatchObject({ status: "ready" });
    expect((await call("headReadyz", `${read}/readyz`, { method: "HEAD" })).status).toBe(200);
    expect((await call("readyz", `${readDown}/readyz`)).json).toMatchObject({
      status: "not_ready",
    });
    expect((await call("headReadyz", `${readDown}/readyz`, { method: "HEAD" })).status).toBe(503);
  });

  it("GET /openapi.yaml serves this document, byte for byte", async () => {
    const res = await fetch(`${read}/openapi.yaml`);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(
      contract.problems("getOpenApi", {
        status: res.status,
        headers: res.headers,
        body: bytes.toString("utf8"),
      }),
    ).toEqual([]);
    expect(res.headers.get("content-type")).toMatch(/^application\/yaml/);
    expect(bytes.equals(contract.text), "the served bytes equal shared/openapi.yaml").toBe(true);
  });
});

/**
 * 422 from the stack (the key reused for another request) and 409 from the write
 * adapter whose Kafka never answers (a duplicate while the first waits for its deadline).
 */
async function idempotencyConflicts(
  operationId: string,
  method: string,
  first: { path: string; body?: unknown },
  other: { path: string; body?: unknown },
): Promise<void> {
  const init = (body: unknown, key: string) =>
    body === undefined
      ? { method, headers: { authorization: `Bearer ${token}`, "idempotency-key": key } }
      : writeInit(method, body, { "idempotency-key": key });
  const key = `contract-${crypto.randomUUID()}`;
  expect((await call(operationId, `${write}${first.path}`, init(first.body, key))).status).toBe(
    202,
  );
  const reused = await call(operationId, `${write}${other.path}`, init(other.body, key));
  expect(reused.status).toBe(422);
  const slowKey = `contract-${crypto.randomUUID()}`;
  await waitUntil(
    "a 409 while the first keyed write waits for Kafka",
    async () => {
      const held = fetch(`${writeDown}${first.path}`, init(first.body, slowKey));
      await sleep(150);
      const duplicate = await call(
        operationId,
        `${writeDown}${first.path}`,
        init(first.body, slowKey),
      );
      await (await held).text();
      return duplicate.status === 409;
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );
}

describe("write API", () => {
  it("Idempotency-Key: 422 for a reused key, 409 while the first is in flight, every write route", async () => {
    const id = crypto.randomUUID();
    const other = crypto.randomUUID();
    await idempotencyConflicts(
      "createTodo",
      "POST",
      { path: "/todos", body: { title: "first" } },
      { path: "/todos", body: { title: "second" } },
    );
    await idempotencyConflicts(
      "replaceTodo",
      "PUT",
      { path: `/todos/${id}`, body: { completed: true } },
      { path: `/todos/${id}`, body: { completed: false } },
    );
    await idempotencyConflicts(
      "updateTodo",
      "PATCH",
      { path: `/todos/${id}`, body: { title: "a" } },
      { path: `/todos/${other}`, body: { title: "a" } },
    );
    await idempotencyConflicts(
      "deleteTodo",
      "DELETE",
      { path: `/todos/${id}` },
      { path: `/todos/${other}` },
    );
  });

  it("POST /todos: 202 (then applied), 400, 401, 413, 415, 503", async () => {
    const accepted = await call(
      "createTodo",
      `${write}/todos`,
      writeInit("POST", { title: "contract" }),
    );
    expect(accepted.status).toBe(202);
    const { id, command_id } = accepted.json as { id: string; command_id: string };
    expect(accepted.headers.get("location")).toBe(`/todos/${id}`);
    await waitUntil(
      "the command to be applied",
      async () =>
        ((await call("getCommand", `${read}/commands/${command_id}`)).json as { status: string })
          .status === "applied",
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const applied = await call("getCommand", `${read}/commands/${command_id}`);
    expect(applied.json).toMatchObject({
      status: "applied",
      type: "create",
      todo_id: id,
      reason: null,
    });
    expect(
      (await call("headCommand", `${read}/commands/${command_id}`, { method: "HEAD" })).status,
    ).toBe(200);

    const url = `${write}/todos`;
    expect((await call("createTodo", url, writeInit("POST", { title: "" }))).status).toBe(400);
    const anonymous = {
      ...writeInit("POST", { title: "x" }),
      headers: { "content-type": "application/json" },
    };
    expect((await call("createTodo", url, anonymous)).status).toBe(401);
    const huge = { title: "x", description: "y".repeat(17 * 1024) };
    expect((await call("createTodo", url, writeInit("POST", huge))).status).toBe(413);
    const text = writeInit("POST", "title=x", { "content-type": "text/plain" });
    expect((await call("createTodo", url, text)).status).toBe(415);
    expect(
      (await call("createTodo", `${writeDown}/todos`, writeInit("POST", { title: "x" }))).status,
    ).toBe(503);
  });

  for (const [operationId, method] of [
    ["replaceTodo", "PUT"],
    ["updateTodo", "PATCH"],
  ] as const) {
    it(`${method} /todos/{id}: 202, 400, 401, 413, 415, 503`, async () => {
      const url = `${write}/todos/${crypto.randomUUID()}`;
      const ok = await call(operationId, url, writeInit(method, { completed: true }));
      expect(ok.status).toBe(202);
      expect((await call(operationId, url, writeInit(method, {}))).status).toBe(400);
      const badId = `${write}/todos/not-a-uuid`;
      expect((await call(operationId, badId, writeInit(method, { completed: true }))).status).toBe(
        400,
      );
      const anonymous = {
        ...writeInit(method, { completed: true }),
        headers: { "content-type": "application/json" },
      };
      expect((await call(operationId, url, anonymous)).status).toBe(401);
      const huge = { description: "y".repeat(17 * 1024) };
      expect((await call(operationId, url, writeInit(method, huge))).status).toBe(413);
      const form = writeInit(method, "completed=true", {
        "content-type": "application/x-www-form-urlencoded",
      });
      expect((await call(operationId, url, form)).status).toBe(415);
      const down = `${writeDown}/todos/${crypto.randomUUID()}`;
      expect((await call(operationId, down, writeInit(method, { completed: true }))).status).toBe(
        503,
      );
    });
  }

  it("DELETE /todos/{id}: 202, 400, 401, 413 (adapter cap), 503", async () => {
    const auth = { authorization: `Bearer ${token}` };
    const url = `${write}/todos/${crypto.randomUUID()}`;
    expect((await call("deleteTodo", url, { method: "DELETE", headers: auth })).status).toBe(202);
    const bad = `${write}/todos/${"z".repeat(36)}`;
    expect((await call("deleteTodo", bad, { method: "DELETE", headers: auth })).status).toBe(400);
    expect((await call("deleteTodo", url, { method: "DELETE" })).status).toBe(401);
    // Announced over the adapter's 1 MiB cap and refused before the body is read; sent raw
    // without the body, so the answer cannot be lost to a reset while a client still writes.
    const port = Number(new URL(write).port);
    const overCap = await rawExchange(
      port,
      `DELETE ${new URL(url).pathname} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${token}\r\nContent-Length: 2000000\r\n\r\n`,
      { waitMs: 10_000, expectResponses: 1 },
    );
    const [tooLarge] = overCap.responses;
    expect(tooLarge?.status).toBe(413);
    if (tooLarge !== undefined)
      expect(contract.problems("deleteTodo", observed(tooLarge))).toEqual([]);
    const down = `${writeDown}/todos/${crypto.randomUUID()}`;
    expect((await call("deleteTodo", down, { method: "DELETE", headers: auth })).status).toBe(503);
  });
});

describe("coverage of the document", () => {
  it("every documented status of every operation was seen above", () => {
    expect(contract.unexercised()).toEqual([]);
  });
});
