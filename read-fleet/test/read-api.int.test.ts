import { connect } from "node:net";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { freshDatabase, waitUntil } from "@million-rps/local/testing";
import {
  allocateGeneration,
  buildEntry,
  decodeCursor,
  decodeEntry,
  encodeCursor,
  encodeHotEntries,
  encodePage,
  HotPages,
  issueCommandId,
  itemSubject,
  publishChanges,
  pushHotEntries,
  queryTodoPage,
  queryTodoStates,
  type Todo,
  writeEntries,
} from "@million-rps/shared";
import { DEV_COMMAND_ID_SECRET } from "@million-rps/shared/config";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { glibc, isNativeUws, loadUws } from "../src/native-uws";
import type { ReadServer } from "../src/server";
import {
  get,
  insertTodos,
  json,
  metricValue,
  pipelined,
  publishChange,
  startTestServer,
} from "./helpers";

interface ErrorBody {
  error: { code: string; message: string };
}

const TODOS = 230;
let db: pg.Pool;
let redis: Redis;
let server: ReadServer;
let port: number;
let databaseUrl: string;

beforeAll(async () => {
  databaseUrl = await freshDatabase();
  db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  await insertTodos(db, TODOS);
  server = await startTestServer({ DATABASE_URL: databaseUrl });
  port = server.port;
  redis = new Redis(server.service.deps.config.redisUrl);
});

afterAll(async () => {
  await server?.close(0);
  redis?.disconnect();
  await db?.end();
});

async function expectedOrder(): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    "SELECT id FROM todos ORDER BY created_at DESC, id DESC",
  );
  return rows.map((r) => r.id);
}

/** The cursor a page ending with todo `id` links to. */
async function cursorAfter(id: string) {
  const { rows } = await db.query<{ micros: string }>(
    "SELECT (extract(epoch FROM created_at) * 1000000)::bigint::text AS micros FROM todos WHERE id = $1",
    [id],
  );
  return { createdAtMicros: BigInt(rows[0]?.micros ?? "0"), id };
}

function nextFrom(link: string | string[] | undefined): string | null {
  if (typeof link !== "string") return null;
  const m = /^<(\/todos\?[^>]+)>; rel="next"$/.exec(link);
  expect(m, `Link header ${link}`).not.toBeNull();
  return m?.[1] ?? null;
}

describe("uWS build", () => {
  it("is a native addon, not the JavaScript fallback, and the newest that loads here", () => {
    const { uws, build } = loadUws();
    expect(isNativeUws(uws)).toBe(true);
    expect(Function.prototype.toString.call(uws.App)).toContain("[native code]");
    // The current build needs glibc 2.38 (Debian 13); Debian 12 runs the legacy one on Node 20.
    const [major = 0, minor = 0] = (glibc() ?? "0.0").split(".").map(Number);
    expect(build).toBe(major > 2 || (major === 2 && minor >= 38) ? "current" : "legacy");
  });
});

describe("GET /todos", () => {
  it("walks every page newest first with no gap and no repeat", async () => {
    const want = await expectedOrder();
    const seen: string[] = [];
    let path: string | null = "/todos?limit=7";
    let pages = 0;
    while (path !== null) {
      const r = await get(port, path);
      expect(r.status).toBe(200);
      expect(r.headers["content-type"]).toBe("application/json");
      const page = json<Todo[]>(r);
      expect(page.length).toBeLessThanOrEqual(7);
      seen.push(...page.map((t) => t.id));
      path = nextFrom(r.headers.link);
      pages++;
      expect(pages).toBeLessThan(100);
    }
    expect(seen).toEqual(want);
    expect(new Set(seen).size).toBe(TODOS);
  });

  it("returns a bare array of todos in the seed's shape, 100 by default", async () => {
    const r = await get(port, "/todos");
    const page = json<Todo[]>(r);
    expect(Array.isArray(page)).toBe(true);
    expect(page).toHaveLength(100);
    const first = page[0] as Todo;
    expect(Object.keys(first).sort()).toEqual(
      ["completed", "created_at", "description", "id", "title", "updated_at", "user_id"].sort(),
    );
    expect(first.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(r.headers.vary).toBe("Accept-Encoding");
    expect(r.headers["cache-control"]).toContain("max-age=");
    expect(r.headers.etag).toMatch(/^"[^"]+"$/);
  });

  it("ends with a page that has no next link", async () => {
    const r = await get(port, "/todos?limit=1000");
    expect(json<Todo[]>(r)).toHaveLength(TODOS);
    expect(r.headers.link).toBeUndefined();
  });

  const cursor = encodeCursor({
    createdAtMicros: 1_767_225_600_000_000n,
    id: "0b5b3a3e-2d3c-4e0f-8a1b-2c3d4e5f6a7b",
  });
  it.each([
    "limit=abc",
    "limit=-1",
    "limit=0",
    "limit=1001",
    "limit=1e3",
    "limit=10abc",
    "limit=1&limit=2",
    "limit=",
    "limit=%ZZ",
    "cursor=abc",
    `cursor=${cursor.slice(0, 20)}`,
    `cursor=${cursor.slice(0, -2)}AA`.replace(/.$/, "!"),
    `cursor=${Buffer.from("forged-cursor-forged-cursor!").toString("base64url")}`,
    `cursor=${cursor}&cursor=${cursor}`,
  ])("400 with a JSON error for ?%s", async (query) => {
    const r = await get(port, `/todos?${query}`);
    expect(r.status).toBe(400);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(json<ErrorBody>(r).error.code).toBe("bad_request");
    expect(json<ErrorBody>(r).error.message).not.toMatch(/at .*\.ts/);
  });

  it("a well-formed cursor past the oldest todo gives an empty last page", async () => {
    const r = await get(port, `/todos?cursor=${cursor}`); // 2026-01-01T00:00:00Z, before every seed row
    expect(r.status).toBe(200);
    expect(json(r)).toEqual([]);
    expect(r.headers.link).toBeUndefined();
  });
});

describe("encodings and validators", () => {
  it("each encoding decodes to the identity body, with its own ETag", async () => {
    const identity = await get(port, "/todos?limit=50");
    const gz = await get(port, "/todos?limit=50", { "accept-encoding": "gzip" });
    const br = await get(port, "/todos?limit=50", { "accept-encoding": "gzip, deflate, br" });
    expect(identity.headers["content-encoding"]).toBeUndefined();
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(br.headers["content-encoding"]).toBe("br");
    expect(gunzipSync(gz.body).equals(identity.body)).toBe(true);
    expect(brotliDecompressSync(br.body).equals(identity.body)).toBe(true);
    expect(Number(gz.headers["content-length"])).toBe(gz.body.length);
    const tags = [identity, gz, br].map((r) => r.headers.etag);
    expect(new Set(tags).size).toBe(3);
    for (const r of [identity, gz, br]) expect(r.headers.vary).toBe("Accept-Encoding");
  });

  it("answers If-None-Match with 304 and no body, per encoding", async () => {
    for (const ae of ["", "gzip", "br"]) {
      const first = await get(port, "/todos?limit=20", ae === "" ? {} : { "accept-encoding": ae });
      const etag = first.headers.etag as string;
      for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, "*"]) {
        const r = await get(port, "/todos?limit=20", {
          "if-none-match": inm,
          ...(ae === "" ? {} : { "accept-encoding": ae }),
        });
        expect(r.status).toBe(304);
        expect(r.body.length).toBe(0);
        expect(r.headers.etag).toBe(etag);
        expect(r.headers.vary).toBe("Accept-Encoding");
      }
    }
    const miss = await get(port, "/todos?limit=20", { "if-none-match": '"other"' });
    expect(miss.status).toBe(200);
  });

  it("HEAD sends the same headers and length without a body", async () => {
    const full = await get(port, "/todos?limit=30", { "accept-encoding": "gzip" });
    const head = await get(port, "/todos?limit=30", { "accept-encoding": "gzip" }, "HEAD");
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const h of ["content-length", "etag", "content-encoding", "link", "cache-control"]) {
      expect(head.headers[h], h).toBe(full.headers[h]);
    }
  });
});

describe("GET /todos/:id", () => {
  it("200 for a todo, equal to its entry in the list", async () => {
    const [first] = json<Todo[]>(await get(port, "/todos?limit=1"));
    const r = await get(port, `/todos/${first?.id}`);
    expect(r.status).toBe(200);
    expect(json<Todo>(r)).toEqual(first);
    expect((await get(port, `/todos/${first?.id}`, {}, "HEAD")).status).toBe(200);
  });

  it("404 for an unknown id, 400 for a malformed one", async () => {
    const unknown = await get(port, "/todos/0b5b3a3e-2d3c-4e0f-8a1b-2c3d4e5f6a7b");
    expect(unknown.status).toBe(404);
    expect(json<ErrorBody>(unknown).error.code).toBe("not_found");
    for (const bad of ["abc", "0B5B3A3E-2D3C-4E0F-8A1B-2C3D4E5F6A7B", "1'%20OR%201=1", "%00"]) {
      const r = await get(port, `/todos/${bad}`);
      expect(r.status, bad).toBe(400);
      expect(json<ErrorBody>(r).error.code).toBe("bad_request");
    }
  });
});

describe("GET /commands/:id", () => {
  // Ids as the write API issues them (the read fleet here runs with the dev COMMAND_ID_SECRET).
  const secret = new TextEncoder().encode(DEV_COMMAND_ID_SECRET);
  const applied = issueCommandId(secret);
  const rejected = issueCommandId(secret);
  const unknown = issueCommandId(secret);
  const neverIssued = "11111111-2222-4333-8444-777777777777";

  it("pending (not cacheable) until recorded, then the final status", async () => {
    const pending = await get(port, `/commands/${applied}`);
    expect(pending.status).toBe(200);
    expect(json(pending)).toEqual({ command_id: applied, status: "pending" });
    expect(pending.headers["cache-control"]).toBe("no-store");
    await db.query(
      `INSERT INTO commands (command_id, todo_id, actor, type, status, reason, issued_at) VALUES
       ($1, gen_random_uuid(), 'alice', 'create', 'applied', NULL, now()),
       ($2, gen_random_uuid(), 'bob', 'delete', 'rejected', 'forbidden', now())`,
      [applied, rejected],
    );
    const done = json<{ status: string }>(await get(port, `/commands/${applied}`));
    expect(done.status).toBe("applied");
    const no = json<{ status: string; reason: string }>(await get(port, `/commands/${rejected}`));
    expect(no).toMatchObject({ status: "rejected", reason: "forbidden" });
    expect(json(await get(port, `/commands/${unknown}`))).toMatchObject({ status: "pending" });
  });

  it("404 for a well-formed id the write API never issued, 200 once such an id is recorded", async () => {
    const r = await get(port, `/commands/${neverIssued}`);
    expect(r.status).toBe(404);
    expect(r.headers["cache-control"]).toBe("no-store");
    expect(json<ErrorBody>(r).error.code).toBe("not_found");
    // A recorded command answers whatever its id (ids from before the tag, a rotated secret).
    await db.query(
      `INSERT INTO commands (command_id, todo_id, actor, type, status, reason, issued_at) VALUES
       ($1, gen_random_uuid(), 'alice', 'create', 'applied', NULL, now())`,
      [neverIssued],
    );
    expect(json<{ status: string }>(await get(port, `/commands/${neverIssued}`)).status).toBe(
      "applied",
    );
  });

  it("keeps final statuses in L1: answered even after the row is gone", async () => {
    await db.query("DELETE FROM commands WHERE command_id = $1", [applied]);
    const r = await get(port, `/commands/${applied}`);
    expect(json<{ status: string }>(r).status).toBe("applied");
    expect(r.headers["cache-control"]).toContain("immutable");
  });

  it("400 for a malformed id", async () => {
    const r = await get(port, "/commands/not-a-uuid");
    expect(r.status).toBe(400);
  });
});

describe("routing, health and hostile input", () => {
  it("404 JSON for unknown paths, 405 with Allow for other methods", async () => {
    for (const path of ["/", "/todo", "/todos/", "/todos/a/b", "/x?limit=1"]) {
      const r = await get(port, path);
      expect(r.status, path).toBe(404);
      expect(json<ErrorBody>(r).error.code).toBe("not_found");
    }
    for (const [method, path] of [
      ["POST", "/todos"],
      ["DELETE", "/todos/0b5b3a3e-2d3c-4e0f-8a1b-2c3d4e5f6a7b"],
      ["PUT", "/commands/x"],
      ["OPTIONS", "/todos"],
    ] as const) {
      const r = await get(port, path, {}, method);
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.allow).toBe("GET, HEAD");
      expect(json<ErrorBody>(r).error.code).toBe("method_not_allowed");
    }
  });

  it("/healthz and /readyz", async () => {
    expect(json(await get(port, "/healthz"))).toEqual({ status: "ok" });
    const ready = await get(port, "/readyz");
    expect(ready.status).toBe(200);
    expect(json(ready)).toMatchObject({ status: "ready" });
  });

  it("very long URLs get 400 (or 431), oversized headers 431 or a closed connection, never a crash", async () => {
    const status = (p: Promise<{ status: number }>) =>
      p.then(
        (r) => r.status,
        () => "closed",
      );
    // uWS.js 20.57's parser answers 431 itself past its header limit; 20.30 lets the route say 400.
    expect([400, 431]).toContain(
      await status(get(port, `/todos?limit=10&pad=${"x".repeat(20_000)}`)),
    );
    expect([400, 431]).toContain(await status(get(port, `/todos/${"a".repeat(10_000)}`)));
    expect([431, "closed"]).toContain(
      await status(get(port, "/todos", { "x-big": "y".repeat(1_000_000) })),
    );
    const many: Record<string, string> = {};
    for (let i = 0; i < 500; i++) many[`x-h${i}`] = "v";
    expect([431, "closed"]).toContain(await status(get(port, "/todos", many)));
    expect((await get(port, "/todos?limit=1")).status).toBe(200);
  });

  function pipeline(paths: readonly string[]): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join(""));
      });
      let text = "";
      const done = () => {
        socket.destroy();
        resolve(text);
      };
      socket.on("data", (d) => {
        text += d.toString("latin1");
      });
      socket.on("close", done);
      socket.on("error", reject);
      setTimeout(done, 1500);
    });
  }

  it("pipelined requests on one connection are answered in order", async () => {
    const paths = ["/todos?limit=3", "/healthz", "/todos?limit=5", "/nope", "/todos?limit=3"];
    for (const p of paths) await get(port, p); // warm: answered synchronously from L1
    const raw = await pipeline(paths);
    const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(["200", "200", "200", "404", "200"]);
  });

  it("a cold request with others pipelined behind it closes that connection, nothing else", async () => {
    // uWS serves pipelined requests only synchronously: a pending fill ahead of another
    // request makes it close the connection (the client retries). The process lives on.
    await pipeline(["/todos?limit=41", "/healthz"]);
    expect((await get(port, "/todos?limit=41")).status).toBe(200);
  });

  it("a client that never finishes its request is cut off; others are served meanwhile", async () => {
    const socket = connect(port, "127.0.0.1", () => socket.write("GET /todos HTTP/1.1\r\nHost:"));
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.on("error", () => {});
    expect((await get(port, "/todos?limit=2")).status).toBe(200);
    await closed; // uWS times idle half-requests out: ~10 s (uWS.js 20.30), ~31 s (20.57)
    expect((await get(port, "/healthz")).status).toBe(200);
  }, 60_000);
});

describe("cache protocol", () => {
  const pgHits = async (servers: readonly ReadServer[] = [server]) => {
    let n = 0;
    for (const s of servers) {
      n += metricValue(await s.service.metricsText(), "read_cache_requests_total", {
        level: "postgres",
        result: "hit",
      });
    }
    return n;
  };
  const slotOf = (s: ReadServer, key: string) => s.service.pages.peek(key);
  /** What one process has read so far: from L2, from Postgres, and from the worker's pushes. */
  const cacheReads = async (s: ReadServer) => {
    const text = await s.service.metricsText();
    const count = (level: string, result: string) =>
      metricValue(text, "read_cache_requests_total", { level, result });
    return {
      l2: count("l2", "hit") + count("l2", "miss") + count("l2", "stale"),
      postgres: count("postgres", "hit") + count("postgres", "not_found"),
      pushed: count("l2", "pushed"),
    };
  };
  /** A create is on the first page of every limit: the pages (keys) any of `servers` holds. */
  const firstPagesHeld = (servers: readonly ReadServer[] = [server]) =>
    new Set(
      servers
        .flatMap((s) => [...s.service.pages.slots()].map((slot) => slot.key))
        .filter((k) => !k.includes(":")),
    ).size;

  async function newTodo(title: string): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO todos (id, title, user_id, created_at, updated_at)
       VALUES (gen_random_uuid(), $1, 'carol', now(), now()) RETURNING id::text`,
      [title],
    );
    return rows[0]?.id as string;
  }

  it("a change touching a held page costs Postgres one query, and no request waits for it", async () => {
    const first = await get(port, "/todos?limit=11");
    const before = await pgHits();
    const id = await newTodo("for limit 11");
    const generation = await publishChange(redis, server.service.keys, db, [id]);
    // Meanwhile, 40 concurrent readers: every one answered (old bytes or new), none waits.
    const results = await Promise.all(
      Array.from({ length: 40 }, () => get(port, "/todos?limit=11")),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    await waitUntil("the page refreshed", () =>
      Promise.resolve(
        server.service.refreshesWaiting === 0 && (slotOf(server, "11")?.stamp ?? 0) >= generation,
      ),
    );
    // One query per page the create is on (the first page of each limit held), not per request.
    expect((await pgHits()) - before).toBe(firstPagesHeld());
    const now = await get(port, "/todos?limit=11");
    expect(json<Todo[]>(now)[0]?.id).toBe(id);
    expect(now.headers.etag).not.toBe(first.headers.etag);
    // The process that read it wrote the encoded entry for the fleet, stamped at least N.
    const entry = decodeEntry(
      (await redis.getBuffer(server.service.keys.page(11, null))) as Buffer,
    );
    expect(entry?.stamp).toBeGreaterThanOrEqual(generation);
    expect(entry?.gzip).not.toBeNull();
  });

  it("two processes refreshing the same page query Postgres once (the Redis lock)", async () => {
    const other = await startTestServer({
      DATABASE_URL: databaseUrl,
      CACHE_KEY_PREFIX: server.service.deps.config.cacheKeyPrefix,
    });
    try {
      await Promise.all([get(port, "/todos?limit=13"), get(other.port, "/todos?limit=13")]);
      const before = await pgHits([server, other]);
      const id = await newTodo("for limit 13");
      const generation = await publishChange(redis, server.service.keys, db, [id]);
      await waitUntil("both processes refreshed the page", () =>
        Promise.resolve(
          [server, other].every(
            (s) => s.service.refreshesWaiting === 0 && (slotOf(s, "13")?.stamp ?? 0) >= generation,
          ),
        ),
      );
      // Each touched page once across both processes, not once per process.
      expect((await pgHits([server, other])) - before).toBe(firstPagesHeld([server, other]));
      const [a, b] = await Promise.all([
        get(port, "/todos?limit=13"),
        get(other.port, "/todos?limit=13"),
      ]);
      expect(a.headers.etag).toBe(b.headers.etag);
      expect(json<Todo[]>(a)[0]?.id).toBe(id);
    } finally {
      await other.close(0);
    }
  });

  it("a hot page pushed with its publication is swapped in with no read of Redis or Postgres", async () => {
    // Its own key prefix: it holds only its warm hot pages and what this test reads.
    const other = await startTestServer({ DATABASE_URL: databaseUrl });
    try {
      await get(other.port, "/todos?limit=12");
      const keys = other.service.keys;
      const firstPages = [...other.service.pages.slots()]
        .map((slot) => slot.key)
        .filter((k) => !k.includes(":"))
        .map(Number);
      expect(firstPages).toContain(12);
      const reads = () => cacheReads(other);
      const before = await reads();
      // What the worker does after a commit: allocate, read and write the hot pages, push, publish.
      const id = await newTodo("pushed to limit 12");
      const generation = await allocateGeneration(redis, keys);
      const changes = (await queryTodoStates(db, [id])).map((s) => ({
        id: s.id,
        position: s.position,
      }));
      const hot = new HotPages(
        firstPages.map((limit) => ({ limit, pages: 1 })),
        keys,
      );
      const writes = await hot.read(db, changes, generation);
      await pushHotEntries(redis, keys, await writeEntries(redis, keys, writes, 60));
      await publishChanges(redis, keys, { generation, reset: false, changes });
      await waitUntil("every first page refreshed", () =>
        Promise.resolve(
          other.service.refreshesWaiting === 0 &&
            firstPages.every((limit) => (slotOf(other, String(limit))?.stamp ?? 0) >= generation),
        ),
      );
      const after = await reads();
      expect(after.pushed - before.pushed).toBe(firstPages.length);
      expect(after.l2).toBe(before.l2);
      expect(after.postgres).toBe(before.postgres);
      expect(json<Todo[]>(await get(other.port, "/todos?limit=12"))[0]?.id).toBe(id);
    } finally {
      await other.close(0);
    }
  });

  it("a changed todo pushed with its publication is swapped in with no read of Redis or Postgres", async () => {
    // A process of its own, holding this todo and its hot page 1 (which the change also
    // touches: that page was not pushed, so its refresh reads L2 and Postgres, and the
    // counts below allow exactly that). Its poll is slowed so that it cannot apply the
    // change set from the log before the push has been read from the subscription.
    const lone = await startTestServer({ DATABASE_URL: databaseUrl, CHANGE_POLL_MS: "60000" });
    try {
      const id = await newTodo("a todo read by id");
      expect((await get(lone.port, `/todos/${id}`)).status).toBe(200);
      const keys = lone.service.keys;
      const reads = () => cacheReads(lone);
      const before = await reads();
      // What the worker does after a commit: allocate, write the changed todo over the
      // entry a reader cached, push it, publish.
      await db.query(
        "UPDATE todos SET title = 'pushed by id', version = version + 1 WHERE id = $1",
        [id],
      );
      const generation = await allocateGeneration(redis, keys);
      const [state] = await queryTodoStates(db, [id]);
      const body = state?.json ?? null;
      const entry = await buildEntry(generation, itemSubject(id, body), body ?? "");
      const key = keys.item(id);
      const stored = await writeEntries(redis, keys, [{ key, entry, onlyIfPresent: true }], 60);
      expect(stored.map((e) => e.key)).toEqual([key]);
      await pushHotEntries(redis, keys, stored);
      await publishChanges(redis, keys, {
        generation,
        reset: false,
        changes: [{ id, position: state?.position ?? null }],
      });
      const pages = [...lone.service.pages.slots()];
      await waitUntil("the todo and the pages it is on refreshed", () =>
        Promise.resolve(
          lone.service.refreshesWaiting === 0 &&
            (lone.service.items.peek(id)?.stamp ?? 0) >= generation &&
            pages.every((slot) => slot.stamp >= generation),
        ),
      );
      const after = await reads();
      expect(after.pushed - before.pushed).toBe(1);
      // One read of each for each page held, none for the todo.
      expect(pages.length).toBe(firstPagesHeld([lone]));
      expect(after.l2 - before.l2).toBe(pages.length);
      expect(after.postgres - before.postgres).toBe(pages.length);
      expect(json<Todo>(await get(lone.port, `/todos/${id}`)).title).toBe("pushed by id");
    } finally {
      await lone.close(0);
    }
  });

  it("a revalidation past the TTL asks L2, even with a push for the page held", async () => {
    await get(port, "/todos?limit=14");
    const slot = slotOf(server, "14");
    if (slot === undefined) throw new Error("limit 14 is not held");
    const keys = server.service.keys;
    const held = await redis.getBuffer(keys.page(14, null));
    if (held === null) throw new Error("limit 14 has no L2 entry");
    // A push that no change set asked for (its message lost): a revalidation must not take it.
    server.service.pushed.offer(encodeHotEntries([{ key: keys.page(14, null), value: held }]));
    const l2 = async () =>
      metricValue(await server.service.metricsText(), "read_cache_requests_total", {
        level: "l2",
        result: "hit",
      });
    const before = await l2();
    server.service.expiredPage(slot);
    await waitUntil("the revalidation", () => Promise.resolve(!slot.refreshing));
    expect((await l2()) - before).toBe(1);
    expect(server.service.pushed.size).toBe(1);
  });

  it("a change leaves the answers it does not touch cached, with their ETags", async () => {
    const page1 = await get(port, "/todos?limit=5");
    const deepPath = nextFrom(page1.headers.link) as string;
    const deep = await get(port, deepPath);
    const oldest = (await expectedOrder()).at(-1) as string;
    const item = await get(port, `/todos/${oldest}`);
    const deepKey = `5:${new URL(deepPath, "http://x").searchParams.get("cursor")}`;
    const deepStamp = slotOf(server, deepKey)?.stamp;
    const before = await pgHits();
    const id = await newTodo("only the first page moves");
    const generation = await publishChange(redis, server.service.keys, db, [id]);
    await waitUntil("the first page refreshed", () =>
      Promise.resolve(
        server.service.refreshesWaiting === 0 && (slotOf(server, "5")?.stamp ?? 0) >= generation,
      ),
    );
    expect((await pgHits()) - before).toBe(firstPagesHeld()); // first pages only
    expect(slotOf(server, deepKey)?.stamp).toBe(deepStamp);
    expect((await get(port, deepPath)).headers.etag).toBe(deep.headers.etag);
    expect((await get(port, `/todos/${oldest}`)).headers.etag).toBe(item.headers.etag);
    expect((await get(port, "/todos?limit=5")).headers.etag).not.toBe(page1.headers.etag);
  });

  it("an update and a delete refresh the todo and the pages that show it, wherever they are", async () => {
    const order = await expectedOrder();
    const target = order[12] as string; // on page 3 of limit 5
    const page3Path = `/todos?limit=5&cursor=${encodeCursor(await cursorAfter(order[9] as string))}`;
    const page3 = json<Todo[]>(await get(port, page3Path));
    expect(page3.map((t) => t.id)).toContain(target);
    await get(port, `/todos/${target}`);
    await db.query("UPDATE todos SET title = 'renamed' WHERE id = $1", [target]);
    await publishChange(redis, server.service.keys, db, [target]);
    await waitUntil("the update on the page and the item", async () => {
      const p = json<Todo[]>(await get(port, page3Path));
      const t = json<Todo>(await get(port, `/todos/${target}`));
      return p.find((x) => x.id === target)?.title === "renamed" && t.title === "renamed";
    });
    await db.query("DELETE FROM todos WHERE id = $1", [target]);
    await publishChange(redis, server.service.keys, db, [target]);
    await waitUntil("the delete on the page and the item", async () => {
      const p = json<Todo[]>(await get(port, page3Path));
      return (
        !p.some((x) => x.id === target) && (await get(port, `/todos/${target}`)).status === 404
      );
    });
  });

  it("a cursor page it filled is in the page index, and a worker's rewrite of it is read from L2, not Postgres", async () => {
    const keys = server.service.keys;
    const order = await expectedOrder();
    const cursor = encodeCursor(await cursorAfter(order[20] as string));
    const path = `/todos?limit=7&cursor=${cursor}`;
    const held = json<Todo[]>(await get(port, path));
    const target = held[3]?.id as string;
    // What the worker looks up to find it: its low end (the last todo's micros) as the score.
    const [last] = await queryTodoStates(db, [held[held.length - 1]?.id as string]);
    expect(await redis.zscore(keys.pageIndex, `7 ${cursor}`)).toBe(String(last?.position?.micros));

    // The worker's part, as change-publisher.ts does it: rewrite the cached page, then publish.
    await db.query("UPDATE todos SET title = 'renamed for the index' WHERE id = $1", [target]);
    const generation = await allocateGeneration(redis, keys);
    const page = await queryTodoPage(db, 7, decodeCursor(cursor));
    const written = await writeEntries(
      redis,
      keys,
      [
        {
          key: keys.page(7, cursor),
          ...(await encodePage(7, cursor, page, generation)),
          onlyIfPresent: true,
        },
      ],
      60,
    );
    expect(written).toHaveLength(1);
    const before = await pgHits();
    const [state] = await queryTodoStates(db, [target]);
    await publishChanges(redis, keys, {
      generation,
      reset: false,
      changes: [{ id: target, position: state?.position ?? null }],
    });
    await waitUntil("the page refreshed", () =>
      Promise.resolve(
        server.service.refreshesWaiting === 0 &&
          (slotOf(server, `7:${cursor}`)?.stamp ?? 0) >= generation,
      ),
    );
    expect(json<Todo[]>(await get(port, path)).find((t) => t.id === target)?.title).toBe(
      "renamed for the index",
    );
    // The other pages this process holds that show the todo (first pages of other tests)
    // were not rewritten here: one query each, and none for this one.
    const others = [...server.service.pages.slots()].filter(
      (slot) => slot.key !== `7:${cursor}` && slot.value.ids.has(target),
    ).length;
    expect((await pgHits()) - before).toBe(others);
  });

  // Regression (issue 13): L1 was keyed by the raw query string, so cache busters made a
  // fill, a gzip and a brotli per request, and grew L1 to its bound.
  it("an unseen spelling of a held page costs a parse and a lookup, never a fill", async () => {
    await get(port, "/todos?limit=100");
    const entries = server.service.pages.size;
    const before = metricValue(await server.service.metricsText(), "read_cache_requests_total", {
      level: "l1",
      result: "miss",
    });
    for (let i = 0; i < 50; i++) {
      expect((await get(port, `/todos?limit=100&_=${i}&utm_source=x${i}`)).status).toBe(200);
    }
    const after = metricValue(await server.service.metricsText(), "read_cache_requests_total", {
      level: "l1",
      result: "miss",
    });
    expect(after - before).toBe(0);
    expect(server.service.pages.size).toBe(entries);
  });

  // Regression (issue 13): a cursor near 2^63 microseconds passed decoding, Postgres raised
  // "interval out of range", the fleet answered 503 and five of them opened the breaker.
  it("100 crafted cursors get 100 answers of 400 and leave the Postgres breaker closed", async () => {
    const crafted = [
      "f_________8AAAAAAAAAAAAAAAAAAAAA",
      encodeCursor({ createdAtMicros: 2n ** 62n, id: "00000000-0000-4000-8000-000000000000" }),
    ];
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => get(port, `/todos?cursor=${crafted[i % 2]}`)),
    );
    expect(results.map((r) => r.status)).toEqual(Array(100).fill(400));
    expect(server.service.breakers.postgres.state).toBe("closed");
  });

  // Regression (issue 13): every generation change turned every held page into a miss, and
  // a deferred answer on a pipelined connection made this uWS build drop the connection.
  it("a pipelined client loses nothing while the pages it reads change", async () => {
    await get(port, "/todos?limit=7");
    const paths = Array.from({ length: 16 }, () => "/todos?limit=7");
    let closed = 0;
    let answered = 0;
    for (let round = 0; round < 10; round++) {
      const id = await newTodo(`pipelined ${round}`);
      const publishing = publishChange(redis, server.service.keys, db, [id]);
      const bursts = await Promise.all(Array.from({ length: 4 }, () => pipelined(port, paths)));
      await publishing;
      for (const b of bursts) {
        if (b.closedEarly) closed++;
        answered += b.statuses.filter((s) => s === 200).length;
      }
    }
    expect(closed).toBe(0);
    expect(answered).toBe(10 * 4 * 16);
  });

  it("exposes its counters for the admin port", async () => {
    const text = await server.service.metricsText();
    expect(
      metricValue(text, "read_http_responses_total", { route: "todos", code: "200" }),
    ).toBeGreaterThan(20);
    expect(
      metricValue(text, "read_http_responses_total", { route: "todos", code: "304" }),
    ).toBeGreaterThan(0);
    expect(
      metricValue(text, "read_cache_requests_total", { level: "l1", result: "hit" }),
    ).toBeGreaterThan(0);
    expect(
      metricValue(text, "read_cache_requests_total", { level: "l1", result: "miss" }),
    ).toBeGreaterThan(0);
    expect(metricValue(text, "read_generation")).toBe(server.service.generation);
    expect(metricValue(text, "read_http_responses_total", { code: "400" })).toBeGreaterThan(10);
  });
});
