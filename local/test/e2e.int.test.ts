import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../src/testing";
import { startTestStack, type TestStack } from "../src/testing/test-stack";

// The native stack end to end, as `npm start` runs it: the worker, the write API
// (Lambda handlers behind the local adapter) and the read fleet (two uWS
// processes), as child processes against the real Postgres, Redis and Kafka.

/** Accepted-to-visible bound for this test on a noisy 2-core CI machine (the benchmark measures the real figure). */
const FRESHNESS_MS = 5_000;

let stack: TestStack | undefined;
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
  stack = await startTestStack({ name: "e2e" });
  read = stack.readUrl;
  write = stack.writeUrl;
  alice = await stack.token("alice");
  bob = await stack.token("bob");
}, 120_000);

afterAll(async () => {
  await stack?.stop();
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
    // An id the write API never issued (no tag under COMMAND_ID_SECRET) is not "pending".
    const unknown = await getJson<{ error: { code: string } }>(`/commands/${crypto.randomUUID()}`);
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
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
