import { request } from "node:http";
import { decodeCursor, queryTodoJson, queryTodoPage } from "@million-rps/shared";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../src/testing";
import { startTestStack, type TestStack } from "../src/testing/test-stack";

// Invalidation by content (issue 19), checked end to end: creates, updates and deletes
// at random through the write API, Kafka and the worker, while two read processes
// hold pages and todos. After each write is applied, every answer a client already
// got (old cursors included: keyset pages stay addressable) must converge to exactly
// the bytes Postgres renders for it, and nothing the write did not touch may change.

/** A generous bound for this noisy 2-core machine; the benchmark measures the real figure. */
const CONVERGE_MS = 5_000;
const LIMIT = 10;
const ROUNDS = 36;

let stack: TestStack | undefined;
let db: pg.Pool;
let token = "";

/** One GET on a fresh connection: with SO_REUSEPORT it may land on either read process. */
function get(path: string): Promise<{ status: number; body: string; etag: string | undefined }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, stack?.readUrl);
    const req = request(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body, etag: res.headers.etag as string }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function send(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack?.writeUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const json = (await res.json()) as { command_id: string; id: string };
  expect(res.status, JSON.stringify(json)).toBe(202);
  return json;
}

async function applied(commandId: string): Promise<void> {
  await waitUntil(
    `command ${commandId} applied`,
    async () => {
      const r = await get(`/commands/${commandId}`);
      return r.status === 200 && JSON.parse(r.body).status === "applied";
    },
    { timeoutMs: CONVERGE_MS, intervalMs: 20 },
  );
}

/** What Postgres says the answer to `path` is right now: status and exact body. */
async function truth(path: string): Promise<{ status: number; body: string }> {
  const url = new URL(path, "http://x");
  if (url.pathname === "/todos") {
    const cursor = url.searchParams.get("cursor");
    const page = await queryTodoPage(db, LIMIT, cursor === null ? null : decodeCursor(cursor));
    return { status: 200, body: page.json };
  }
  const json = await queryTodoJson(db, url.pathname.slice("/todos/".length));
  return json === null ? { status: 404, body: "" } : { status: 200, body: json };
}

/** Every page of a walk from the first, as a client following Link headers sees it. */
async function walk(): Promise<string[]> {
  const paths: string[] = [];
  let path: string | null = `/todos?limit=${LIMIT}`;
  while (path !== null) {
    paths.push(path);
    const res = await fetch(`${stack?.readUrl}${path}`);
    await res.arrayBuffer();
    path = /^<([^>]+)>; rel="next"$/.exec(res.headers.get("link") ?? "")?.[1] ?? null;
  }
  return paths;
}

beforeAll(async () => {
  stack = await startTestStack({ name: "cache-consistency", seed: 120 });
  db = new pg.Pool({ connectionString: stack.services.databaseUrl, max: 2 });
  token = await stack.token("consistency-user");
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await db?.end();
});

describe("invalidation by content", () => {
  it("after every create, update and delete, every answer held converges to what Postgres says", async () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const mine: string[] = [];
    const pages = new Set(await walk()); // every page cursor ever handed out stays in the set
    const items = new Set<string>();
    for (const p of pages) {
      const res = await fetch(`${stack?.readUrl}${p}`);
      for (const t of (await res.json()) as { id: string }[]) items.add(`/todos/${t.id}`);
    }
    let checked = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const roll = random();
      let written: { command_id: string; id: string };
      if (mine.length < 3 || roll < 0.4) {
        written = await send("POST", "/todos", { title: `created in round ${round}` });
        mine.push(written.id);
      } else {
        const id = mine[Math.floor(random() * mine.length)] as string;
        if (roll < 0.75) {
          written = await send("PATCH", `/todos/${id}`, { title: `updated in round ${round}` });
        } else {
          written = await send("DELETE", `/todos/${id}`);
          mine.splice(mine.indexOf(id), 1);
        }
      }
      items.add(`/todos/${written.id}`);
      await applied(written.command_id);
      for (const p of await walk()) pages.add(p); // the walk's new cursors, too
      const all = [...pages, ...items];
      let wrong: string[] = [];
      const deadline = Date.now() + CONVERGE_MS;
      do {
        wrong = [];
        for (const path of all) {
          // Twice: each connection may reach the other read process.
          for (let k = 0; k < 2; k++) {
            const [got, want] = await Promise.all([get(path), truth(path)]);
            const same =
              got.status === want.status && (want.status === 404 || got.body === want.body);
            if (!same) wrong.push(path);
          }
        }
        if (wrong.length === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      } while (Date.now() < deadline);
      expect(wrong, `round ${round}: answers that did not converge`).toEqual([]);
      checked += all.length;
    }
    expect(checked).toBeGreaterThan(ROUNDS * 100);
    expect(mine.length).toBeGreaterThan(0);
  }, 300_000);
});
