import { rmSync } from "node:fs";
import { mintDevToken } from "@million-rps/write-lambdas";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answers200, type RunningApp, startApp } from "../src/apps";
import { dataDir } from "../src/paths";
import {
  freePort,
  freshDatabase,
  freshKeyPrefix,
  freshTopics,
  testServices,
  waitUntil,
} from "../src/testing";

// The native stack end to end, as `npm start` runs it: the worker, the write API
// (Lambda handlers behind the local adapter) and the read fleet (two uWS
// processes), as child processes against the real Postgres, Redis and Kafka.

const SECRET = "e2e-test-secret-not-real-0123456789abcdef";
/** Accepted-to-visible bound for this test on a noisy 2-core CI machine (the benchmark measures the real figure). */
const FRESHNESS_MS = 5_000;

const profile = `test-${process.pid}-e2e`;
const apps: RunningApp[] = [];
let read = "";
let write = "";
let alice = "";
let bob = "";

interface Todo {
  id: string;
  title: string;
  description: string;
  completed: boolean;
  user_id: string;
}

beforeAll(async () => {
  const services = testServices();
  const [databaseUrl, topics, readPort, readAdmin, writePort, workerAdmin] = await Promise.all([
    freshDatabase(),
    freshTopics(3),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: services.redisUrl,
    KAFKA_BROKERS: services.kafkaBrokers.join(","),
    KAFKA_TODO_TOPIC: topics.topic,
    KAFKA_DLQ_TOPIC: topics.dlqTopic,
    KAFKA_GROUP_ID: `e2e-${topics.topic}`,
    CACHE_KEY_PREFIX: freshKeyPrefix(),
    JWT_SECRET: SECRET,
    LOG_LEVEL: "warn",
  };
  read = `http://127.0.0.1:${readPort}`;
  write = `http://127.0.0.1:${writePort}`;
  apps.push(
    await startApp(
      {
        name: "worker",
        entry: "worker/src/main.ts",
        env: { ...env, ADMIN_PORT: String(workerAdmin) },
        ready: () => answers200(`http://127.0.0.1:${workerAdmin}/healthz`),
      },
      profile,
    ),
    await startApp(
      {
        name: "write-api",
        entry: "write-lambdas/src/local/main.ts",
        env: { ...env, WRITE_HTTP_PORT: String(writePort) },
        ready: () => answers200(`${write}/healthz`),
      },
      profile,
    ),
    await startApp(
      {
        name: "read-fleet",
        entry: "read-fleet/src/main.ts",
        env: {
          ...env,
          HTTP_PORT: String(readPort),
          ADMIN_PORT: String(readAdmin),
          READ_WORKERS: "2",
        },
        ready: () => answers200(`${read}/readyz`),
      },
      profile,
    ),
  );
  alice = await mintDevToken("alice", { secret: SECRET, ttlSec: 600 });
  bob = await mintDevToken("bob", { secret: SECRET, ttlSec: 600 });
}, 120_000);

afterAll(async () => {
  for (const app of apps.reverse()) await app.stop();
  rmSync(dataDir(profile), { recursive: true, force: true });
});

async function send(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${write}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const json = (await res.json()) as { command_id: string; id: string; status: string };
  expect(res.status, JSON.stringify(json)).toBe(202);
  return json;
}

async function getJson<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${read}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

/** Waits until the command has a final status; returns it with how long that took. */
async function outcome(commandId: string): Promise<{ status: string; reason?: string | null }> {
  let last: { status: string; reason?: string | null } = { status: "pending" };
  await waitUntil(
    `command ${commandId} to be recorded`,
    async () => {
      last = (await getJson<{ status: string; reason?: string | null }>(`/commands/${commandId}`))
        .body;
      return last.status !== "pending";
    },
    { timeoutMs: FRESHNESS_MS, intervalMs: 20 },
  );
  return last;
}

async function firstPage(): Promise<Todo[]> {
  return (await getJson<Todo[]>("/todos?limit=100")).body;
}

describe("the native stack end to end", () => {
  let id = "";

  it("POST: accepted, pending, then applied and visible on every read route", async () => {
    const accepted = await send("POST", "/todos", alice, {
      title: "e2e: buy milk",
      description: "two litres",
    });
    expect(accepted.status).toBe("accepted");
    id = accepted.id;
    // Until the worker records it a command reads as pending (it may already be applied here).
    const early = await getJson<{ status: string }>(`/commands/${accepted.command_id}`);
    expect(["pending", "applied"]).toContain(early.body.status);
    const unknown = await getJson<{ status: string }>(`/commands/${crypto.randomUUID()}`);
    expect(unknown).toMatchObject({ status: 200, body: { status: "pending" } });
    expect(await outcome(accepted.command_id)).toMatchObject({ status: "applied" });
    await waitUntil("the new todo on GET /todos", async () => (await firstPage())[0]?.id === id, {
      timeoutMs: FRESHNESS_MS,
    });
    const one = await getJson<Todo>(`/todos/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id,
      title: "e2e: buy milk",
      description: "two litres",
      completed: false,
      user_id: "alice",
    });
  });

  it("PUT by the owner: applied and visible", async () => {
    const accepted = await send("PUT", `/todos/${id}`, alice, {
      title: "e2e: buy oat milk",
      completed: true,
    });
    expect(await outcome(accepted.command_id)).toMatchObject({ status: "applied" });
    await waitUntil(
      "the update on GET /todos",
      async () => (await firstPage()).find((t) => t.id === id)?.title === "e2e: buy oat milk",
      { timeoutMs: FRESHNESS_MS },
    );
    expect((await getJson<Todo>(`/todos/${id}`)).body).toMatchObject({
      title: "e2e: buy oat milk",
      completed: true,
    });
  });

  it("PATCH by another user: rejected as forbidden, data unchanged", async () => {
    const accepted = await send("PATCH", `/todos/${id}`, bob, { title: "e2e: hijacked" });
    expect(await outcome(accepted.command_id)).toMatchObject({
      status: "rejected",
      reason: "forbidden",
    });
    expect((await getJson<Todo>(`/todos/${id}`)).body.title).toBe("e2e: buy oat milk");
    expect((await firstPage()).find((t) => t.id === id)?.title).toBe("e2e: buy oat milk");
  });

  it("DELETE by the owner: applied, then gone from every read route", async () => {
    const accepted = await send("DELETE", `/todos/${id}`, alice);
    expect(await outcome(accepted.command_id)).toMatchObject({ status: "applied" });
    await waitUntil(
      "the todo to disappear from GET /todos",
      async () => !(await firstPage()).some((t) => t.id === id),
      {
        timeoutMs: FRESHNESS_MS,
      },
    );
    await waitUntil(
      "GET /todos/:id to answer 404",
      async () => (await fetch(`${read}/todos/${id}`)).status === 404,
      {
        timeoutMs: FRESHNESS_MS,
      },
    );
  });
});
