import { randomBytes, randomUUID } from "node:crypto";
import {
  startTestStack,
  TEST_JWT_SECRET,
  type TestStack,
  waitUntil,
} from "@million-rps/local/testing";
import { deriveId, isIssuedCommandId, issueCommandId } from "@million-rps/shared";
import { DEV_COMMAND_ID_SECRET } from "@million-rps/shared/config";
import { SignJWT } from "jose";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messagesOn } from "./kafka-support";

/**
 * Issue 14, through the real write API, Kafka, worker and read fleet: every answer
 * a writer gets means what it says. (The deadline-and-ordering and the
 * deterministic 409 cases need a broker we can pause: slow-broker.int.test.ts.)
 */

let stack: TestStack;
let db: pg.Pool;
let alice = "";
const devSecret = new TextEncoder().encode(DEV_COMMAND_ID_SECRET);

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: { command_id: string; id: string; status: string; error?: { code: string } };
}

async function write(
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${stack.writeUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${alice}`, "content-type": "application/json", ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) };
}

async function commandStatus(id: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${stack.readUrl}/commands/${id}`);
  return { status: res.status, body: await res.text() };
}

async function applied(commandId: string): Promise<void> {
  await waitUntil(
    `command ${commandId} applied`,
    async () => JSON.parse((await commandStatus(commandId)).body).status === "applied",
    { timeoutMs: 20_000, intervalMs: 100 },
  );
}

async function recordedCommands(todoId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM commands WHERE todo_id = $1",
    [todoId],
  );
  return rows[0]?.n ?? -1;
}

async function title(todoId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ title: string }>("SELECT title FROM todos WHERE id = $1", [
    todoId,
  ]);
  return rows[0]?.title;
}

const key = () => `k-${randomBytes(6).toString("hex")}`;

beforeAll(async () => {
  stack = await startTestStack({ name: "write-answers" });
  db = new pg.Pool({ connectionString: stack.services.databaseUrl, max: 2 });
  alice = await stack.token("alice");
}, 180_000);

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

describe("Idempotency-Key", () => {
  it("same key and body: the same 202 (status, body, Location) and one applied command", async () => {
    const k = key();
    const first = await write("POST", "/todos", { title: "once" }, { "idempotency-key": k });
    const again = await write("POST", "/todos", { title: "once" }, { "idempotency-key": k });
    expect(first.status).toBe(202);
    expect([again.status, again.text, again.headers.get("location")]).toEqual([
      202,
      first.text,
      first.headers.get("location"),
    ]);
    await applied(first.json.command_id);
    const put = { title: "updated once" };
    const k2 = key();
    const u1 = await write("PUT", `/todos/${first.json.id}`, put, { "idempotency-key": k2 });
    const u2 = await write("PUT", `/todos/${first.json.id}`, put, { "idempotency-key": k2 });
    expect([u1.status, u2.status, u2.text]).toEqual([202, 202, u1.text]);
    await applied(u1.json.command_id);
    expect(await recordedCommands(first.json.id), "one create and one update recorded").toBe(2);
    const onTopic = await messagesOn([...stack.services.kafkaBrokers], stack.services.topic);
    expect(onTopic, "the retries were never sent").toBe(2);
  });

  it("same key, other body: 422 with the project's error body, and the first body stays", async () => {
    const created = await write("POST", "/todos", { title: "the first" }, {});
    await applied(created.json.command_id);
    const k = key();
    const path = `/todos/${created.json.id}`;
    const first = await write("PATCH", path, { title: "first body" }, { "idempotency-key": k });
    expect(first.status).toBe(202);
    const second = await write("PATCH", path, { title: "second body" }, { "idempotency-key": k });
    expect(second.status).toBe(422);
    expect(second.json).toEqual({
      error: { code: "idempotency_key_reused", message: expect.any(String) },
    });
    const otherRoute = await write(
      "POST",
      "/todos",
      { title: "first body" },
      {
        "idempotency-key": k,
      },
    );
    expect(otherRoute.status).toBe(422);
    await applied(first.json.command_id);
    expect(await title(created.json.id)).toBe("first body");
    expect(await recordedCommands(created.json.id)).toBe(2);
  });

  it("concurrent duplicates: every 202 is the same answer, the rest 409, one command applied", async () => {
    const k = key();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        write("POST", "/todos", { title: "concurrent" }, { "idempotency-key": k }),
      ),
    );
    const accepted = answers.filter((a) => a.status === 202);
    const conflicts = answers.filter((a) => a.status === 409);
    expect(accepted.length + conflicts.length).toBe(8);
    expect(accepted.length).toBeGreaterThan(0);
    expect(new Set(accepted.map((a) => a.text)).size).toBe(1);
    for (const c of conflicts) {
      expect(c.json.error?.code).toBe("idempotency_key_in_flight");
      expect(Number(c.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    const [one] = accepted;
    if (one === undefined) throw new Error("no 202");
    await applied(one.json.command_id);
    expect(await recordedCommands(one.json.id)).toBe(1);
  });
});

describe("GET /commands/:id", () => {
  it("404 for ids this API never issued: forged, nil, random v4, a flipped bit, another secret", async () => {
    const real = (await write("DELETE", `/todos/${randomUUID()}`, undefined)).json.command_id;
    expect(isIssuedCommandId(real, devSecret), "the stack runs with the dev secret").toBe(true);
    const flipped = `${real.slice(0, 35)}${real[35] === "0" ? "1" : "0"}`;
    const refused = [
      "00000000-0000-0000-0000-000000000000",
      randomUUID(),
      deriveId("command", "alice", "POST /todos", "k"),
      flipped,
      issueCommandId(randomBytes(32)),
      `${issueCommandId(devSecret).slice(0, 24)}abcdefabcdef`,
    ];
    for (const id of refused) {
      const res = await commandStatus(id);
      expect([res.status, JSON.parse(res.body).error.code], id).toEqual([404, "not_found"]);
      const head = await fetch(`${stack.readUrl}/commands/${id}`, { method: "HEAD" });
      expect(head.status, `HEAD ${id}`).toBe(404);
    }
  });

  it("pending for an issued id not recorded yet, then the final status", async () => {
    const issuedNeverSent = issueCommandId(devSecret);
    expect(await commandStatus(issuedNeverSent)).toEqual({
      status: 200,
      body: `{"command_id":"${issuedNeverSent}","status":"pending"}`,
    });
    const accepted = await write("POST", "/todos", { title: "polled" });
    await applied(accepted.json.command_id);
    const done = await commandStatus(accepted.json.command_id);
    expect([done.status, JSON.parse(done.body).status]).toEqual([200, "applied"]);
  });
});

describe("hostile sub values", () => {
  const hostile: [string, string][] = [
    ["a lone surrogate", "alice\uD800"],
    ["NUL", "ali\u0000ce"],
    ["an escape", "alice\u001b[2J"],
    ["DEL", "alice\u007f"],
    ["a C1 control", "alice\u0085"],
    ["257 characters", "a".repeat(257)],
  ];
  const secret = new TextEncoder().encode(TEST_JWT_SECRET);

  it("are 401 with WWW-Authenticate, and nothing reaches Kafka", async () => {
    const brokers = [...stack.services.kafkaBrokers];
    const before = await messagesOn(brokers, stack.services.topic);
    for (const [name, sub] of hostile) {
      const token = await new SignJWT({ sub })
        .setProtectedHeader({ alg: "HS256" })
        .setExpirationTime("5m")
        .sign(secret);
      const res = await fetch(`${stack.writeUrl}/todos`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: '{"title":"hostile"}',
      });
      expect(res.status, name).toBe(401);
      expect(res.headers.get("www-authenticate"), name).toMatch(
        /^Bearer realm="todos", error="invalid_token"/,
      );
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_token");
    }
    expect(await messagesOn(brokers, stack.services.topic)).toBe(before);
  });
});
