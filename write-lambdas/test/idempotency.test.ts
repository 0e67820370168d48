import { randomBytes } from "node:crypto";
import { type CommandEnvelope, DependencyError } from "@million-rps/shared";
import { createLogger } from "@million-rps/shared/pino-logger";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { verificationKeys } from "../src/auth/key-source";
import { createTokenVerifier } from "../src/auth/token-verifier";
import type { WriteKind } from "../src/commands";
import { idempotencyRedisKey, requestFingerprint } from "../src/idempotency/fingerprint";
import { claimFromEntry, inFlightEntry } from "../src/idempotency/idempotency-store";
import type { CommandSender } from "../src/kafka/command-sender";
import { writeHandler } from "../src/write-api";
import { event, JSON_TYPE, memoryIdempotencyStore } from "./support";

// The handler with an Idempotency-Key, against the store's semantics in process:
// replay, 422, 409, release on failure, 503 on a store outage, no store without a key.

const secret = randomBytes(32);
const verify = createTokenVerifier(
  verificationKeys({ mode: "secret", secret }, { region: undefined, timeoutMs: 1000 }),
  { clockToleranceSec: 5, retryAfterSec: 7 },
);
const log = createLogger("test", { level: "error", write: () => {} });
const TODO = "0190b5e2-7c4d-7a3e-8f00-123456789abc";
const OTHER = "0190b5e2-7c4d-7a3e-8f00-123456789abd";
const token = (sub: string) =>
  new SignJWT({ sub }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1m").sign(secret);

/** A sender whose sends wait for `release()`, or fail with `failWith` when set. */
function controlledSender() {
  const sent: CommandEnvelope[] = [];
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  const sender = {
    sent,
    failWith: undefined as (() => Error) | undefined,
    hold() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release: () => open(),
    async send(command: CommandEnvelope) {
      await gate;
      if (sender.failWith) throw sender.failWith();
      sent.push(command);
    },
    async close() {},
  };
  return sender satisfies CommandSender;
}

async function setup(kind: WriteKind) {
  const sender = controlledSender();
  const store = memoryIdempotencyStore();
  const handle = writeHandler(kind, {
    verify,
    sender,
    idempotency: { store, keyPrefix: "t" },
    commandIdSecret: randomBytes(32),
    retryAfterSec: 7,
    log,
  });
  const authorization = await token("alice");
  const headers = (key?: string) => ({
    authorization: `Bearer ${authorization}`,
    ...JSON_TYPE,
    ...(key !== undefined && { "idempotency-key": key }),
  });
  return { sender, store, handle, headers };
}

describe("Idempotency-Key", () => {
  it("replays the first answer (status, body, Location) to the same request, and sends once", async () => {
    const { sender, handle, headers } = await setup("create");
    const request = () =>
      handle(event("POST", "/todos", { headers: headers("k1"), body: '{"title":"milk"}' }));
    const first = await request();
    expect(first.statusCode).toBe(202);
    const again = await request();
    expect(again).toEqual(first);
    // The same fields in another order, and a default spelled out, are the same request.
    const reordered = await handle(
      event("POST", "/todos", {
        headers: headers("k1"),
        body: '{"completed":false,"description":"","title":"milk"}',
      }),
    );
    expect(reordered).toEqual(first);
    expect(sender.sent).toHaveLength(1);
  });

  it("answers 422 to the same key with another body, method or path, and keeps the first", async () => {
    const { sender, store, handle, headers } = await setup("update");
    const put = (body: string, path = `/todos/${TODO}`, method = "PUT") =>
      handle(event(method, path, { headers: headers("k2"), body }));
    expect((await put('{"title":"first"}')).statusCode).toBe(202);
    for (const res of [
      await put('{"title":"second"}'),
      await put('{"title":"first"}', `/todos/${TODO}`, "PATCH"),
      await put('{"title":"first"}', `/todos/${OTHER}`),
    ]) {
      expect(res.statusCode).toBe(422);
      expect(JSON.parse(res.body).error.code).toBe("idempotency_key_reused");
    }
    expect(sender.sent.map((c) => c.data)).toEqual([{ title: "first" }]);
    expect((await put('{"title":"first"}')).statusCode, "the first still replays").toBe(202);
    expect(store.entries.size).toBe(1);
  });

  it("answers 409 with Retry-After to a duplicate while the first is being accepted", async () => {
    const { sender, handle, headers } = await setup("delete");
    const del = () => handle(event("DELETE", `/todos/${TODO}`, { headers: headers("k3") }));
    sender.hold();
    const first = del();
    const duplicate = await del();
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.headers["Retry-After"]).toBe("7");
    expect(JSON.parse(duplicate.body).error.code).toBe("idempotency_key_in_flight");
    // A different request with the busy key is still a reuse: 422, not 409.
    const other = await handle(event("DELETE", `/todos/${OTHER}`, { headers: headers("k3") }));
    expect(other.statusCode).toBe(422);
    sender.release();
    expect((await first).statusCode).toBe(202);
    expect((await del()).statusCode).toBe(202);
    expect(sender.sent).toHaveLength(1);
  });

  it("frees the key when the send fails, so the retry is sent", async () => {
    const { sender, store, handle, headers } = await setup("create");
    const post = () =>
      handle(event("POST", "/todos", { headers: headers("k4"), body: '{"title":"a"}' }));
    sender.failWith = () => new DependencyError("kafka", "took too long");
    const refused = await post();
    expect([refused.statusCode, refused.headers["Retry-After"]]).toEqual([503, "7"]);
    expect(store.entries.size, "nothing kept for a write not accepted").toBe(0);
    sender.failWith = undefined;
    const retried = await post();
    expect(retried.statusCode).toBe(202);
    expect(sender.sent).toHaveLength(1);
  });

  it("answers 503 with Retry-After, sending nothing, when the store is down", async () => {
    const { sender, store, handle, headers } = await setup("create");
    store.down = true;
    const res = await handle(
      event("POST", "/todos", { headers: headers("k5"), body: '{"title":"a"}' }),
    );
    expect([res.statusCode, res.headers["Retry-After"]]).toEqual([503, "7"]);
    expect(JSON.parse(res.body).error.code).toBe("unavailable");
    expect(sender.sent).toEqual([]);
  });

  it("never touches the store without the header, or for a request refused before the send", async () => {
    const { sender, store, handle, headers } = await setup("create");
    store.down = true;
    const plain = await handle(
      event("POST", "/todos", { headers: headers(), body: '{"title":"a"}' }),
    );
    expect(plain.statusCode).toBe(202);
    const invalid = await handle(
      event("POST", "/todos", { headers: headers("k6"), body: '{"title":""}' }),
    );
    expect(invalid.statusCode).toBe(400);
    expect(store.calls).toBe(0);
    expect(sender.sent).toHaveLength(1);
  });
});

describe("fingerprints and keys", () => {
  const command = (data: Record<string, unknown>) => ({ data }) as unknown as CommandEnvelope;
  const scope = { key: "k", method: "PUT", path: `/todos/${TODO}` };

  it("cover method, path and the validated body, not its field order", () => {
    const fp = requestFingerprint(scope, command({ title: "a", completed: true }));
    expect(requestFingerprint(scope, command({ completed: true, title: "a" }))).toBe(fp);
    expect(requestFingerprint(scope, command({ title: "b", completed: true }))).not.toBe(fp);
    expect(
      requestFingerprint({ ...scope, method: "PATCH" }, command({ title: "a", completed: true })),
    ).not.toBe(fp);
    expect(
      requestFingerprint(
        { ...scope, path: `/todos/${OTHER}` },
        command({ title: "a", completed: true }),
      ),
    ).not.toBe(fp);
  });

  it("scope Redis keys per user and key, hashed under the prefix", () => {
    const k = idempotencyRedisKey("todos", "alice", "k");
    expect(k).toMatch(/^todos:idem:[A-Za-z0-9_-]{43}$/);
    expect(idempotencyRedisKey("todos", "bob", "k")).not.toBe(k);
    expect(idempotencyRedisKey("todos", "alic", "ek")).not.toBe(
      idempotencyRedisKey("todos", "ali", "cek"),
    );
  });

  it("read an entry as replay, in flight, mismatch, or unreadable", () => {
    const done = JSON.stringify({
      v: 1,
      state: "done",
      fp: "f",
      answer: { status: 202, body: "{}" },
    });
    expect(claimFromEntry(done, "f")).toEqual({
      kind: "replay",
      answer: { status: 202, body: "{}" },
    });
    expect(claimFromEntry(done, "g")).toEqual({ kind: "mismatch" });
    expect(claimFromEntry(inFlightEntry("f", "t"), "f")).toEqual({ kind: "in_flight" });
    expect(claimFromEntry(inFlightEntry("f", "t"), "g")).toEqual({ kind: "mismatch" });
    expect(claimFromEntry("garbage", "f")).toBeNull();
    expect(claimFromEntry('{"v":2,"state":"done","fp":"f"}', "f")).toBeNull();
  });
});
