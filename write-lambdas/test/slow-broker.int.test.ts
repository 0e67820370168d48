import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Stack, startStack } from "@million-rps/local";
import {
  dataDir,
  freePort,
  freshDatabase,
  freshKeyPrefix,
  kafkaInstance,
  TEST_JWT_SECRET,
  testServices,
  waitUntil,
} from "@million-rps/local/testing";
import { mintDevToken } from "@million-rps/shared/dev-token";
import { createLogger } from "@million-rps/shared/pino-logger";
import { ensureCommandTopics } from "@million-rps/shared/topics";
import { Redis } from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWriteServer, type WriteServer } from "../src/adapter/server";
import { idempotencyRedisKey } from "../src/idempotency/fingerprint";
import { topicReader } from "./kafka-support";

/**
 * Issue 14 with a broker we can freeze (SIGSTOP: the JVM stops, its sockets stay
 * open and its kernel keeps accepting bytes, as a hung or partitioned broker):
 * a duplicate while the first write waits for Kafka is 409, and a write answered
 * 503 at its deadline is never applied after a later write answered 202. A PRIVATE
 * broker, never the shared one other files use; the whole stack runs on it.
 */

const dir = dataDir(`test-${process.pid}`, "write-lambdas-slow-broker");
const topic = "todo-commands";
/** The stack's own deadline: long enough for a duplicate to arrive while the first waits. */
const STACK_DEADLINE_MS = 10_000;
/** The second write API's deadline: short, so a frozen broker makes it miss. */
const SHORT_DEADLINE_MS = 1_500;

let kafka: ReturnType<typeof kafkaInstance>;
let stack: Stack;
let quick: WriteServer;
let db: pg.Pool;
let redis: Redis;
let keyPrefix = "";
let token = "";
let frozen = false;

/** The broker JVM: the process whose command line names this file's server.properties. */
function brokerPid(): number {
  const props = join(dir, "server.properties");
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (cmdline.includes(props) && cmdline.includes("kafka.Kafka")) return Number(entry);
    } catch {} // ended while we looked
  }
  throw new Error(`no broker process for ${props}`);
}

function freeze(): void {
  process.kill(brokerPid(), "SIGSTOP");
  frozen = true;
}

function thaw(): void {
  if (!frozen) return;
  process.kill(brokerPid(), "SIGCONT");
  frozen = false;
}

interface Answer {
  status: number;
  text: string;
  json: { command_id: string; id: string; error?: { code: string } };
  headers: Headers;
}

async function write(
  base: string,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text), headers: res.headers };
}

async function commandStatus(id: string): Promise<string> {
  const res = await fetch(`${stack.readUrl}/commands/${id}`);
  return ((await res.json()) as { status: string }).status;
}

async function applied(id: string): Promise<void> {
  await waitUntil(`command ${id} applied`, async () => (await commandStatus(id)) === "applied", {
    timeoutMs: 60_000,
    intervalMs: 100,
  });
}

beforeAll(async () => {
  kafka = kafkaInstance(dir, await freePort(), await freePort());
  await kafka.start();
  await ensureCommandTopics(new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }), {
    topic,
    dlqTopic: `${topic}.dlq`,
    partitions: 3,
  });
  keyPrefix = freshKeyPrefix();
  const services = {
    databaseUrl: await freshDatabase(),
    redisUrl: testServices().redisUrl,
    kafkaBrokers: kafka.brokers,
    topic,
    dlqTopic: `${topic}.dlq`,
    keyPrefix,
  };
  stack = await startStack(services, {
    profile: `test-${process.pid}-slow-broker`,
    jwt: { JWT_SECRET: TEST_JWT_SECRET },
    readProcesses: 1,
    appEnv: { "write-api": { KAFKA_SEND_TIMEOUT_MS: String(STACK_DEADLINE_MS) } },
  });
  quick = await startWriteServer({
    port: 0,
    env: { ...stack.env, KAFKA_SEND_TIMEOUT_MS: String(SHORT_DEADLINE_MS) },
    log: createLogger("quick-write", { level: "error", write: () => {} }),
  });
  db = new pg.Pool({ connectionString: services.databaseUrl, max: 2 });
  redis = new Redis(services.redisUrl);
  token = await mintDevToken("alice", { secret: TEST_JWT_SECRET, ttlSec: 600 });
}, 180_000);

afterAll(async () => {
  thaw();
  await quick?.close();
  await stack?.stop();
  await db?.end();
  redis?.disconnect();
  await kafka?.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
  rmSync(dataDir(`test-${process.pid}-slow-broker`), { recursive: true, force: true });
}, 60_000);

describe("a broker that stops answering", () => {
  it("a duplicate while the first is being accepted is 409; once accepted, the same 202", async () => {
    // Warm: the write API's producer is connected before the broker freezes.
    await applied(
      (await write(stack.writeUrl, "POST", "/todos", { title: "warm" })).json.command_id,
    );
    const key = `k-${randomBytes(6).toString("hex")}`;
    const headers = { "idempotency-key": key };
    freeze();
    const first = write(stack.writeUrl, "POST", "/todos", { title: "slow" }, headers);
    const entry = idempotencyRedisKey(keyPrefix, "alice", key);
    await waitUntil(
      "the first write holding its key",
      async () => (await redis.get(entry)) !== null,
    );
    const duplicates = await Promise.all(
      Array.from({ length: 5 }, () =>
        write(stack.writeUrl, "POST", "/todos", { title: "slow" }, headers),
      ),
    );
    for (const d of duplicates) {
      expect([d.status, d.json.error?.code]).toEqual([409, "idempotency_key_in_flight"]);
      expect(d.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
    }
    thaw();
    const accepted = await first;
    expect(accepted.status).toBe(202);
    const replay = await write(stack.writeUrl, "POST", "/todos", { title: "slow" }, headers);
    expect([replay.status, replay.text]).toEqual([202, accepted.text]);
    await applied(accepted.json.command_id);
    const { rows } = await db.query("SELECT command_id FROM commands WHERE todo_id = $1", [
      accepted.json.id,
    ]);
    expect(rows).toEqual([{ command_id: accepted.json.command_id }]);
  }, 120_000);

  it("a write answered 503 at its deadline is never applied after a later write answered 202", async () => {
    const created = await write(quick.url, "POST", "/todos", { title: "v0" });
    expect(created.status).toBe(202);
    await applied(created.json.command_id);
    const path = `/todos/${created.json.id}`;

    // The broker freezes with the producer connected: the PUT's bytes reach the
    // broker's socket, no acknowledgement comes back, the deadline passes.
    freeze();
    const t0 = performance.now();
    const late = await write(quick.url, "PUT", path, { title: "late (answered 503)" });
    expect([late.status, late.json.error?.code]).toEqual([503, "unavailable"]);
    expect(performance.now() - t0).toBeLessThan(SHORT_DEADLINE_MS + 4_000);
    thaw();

    // The client's next write for the same todo; retried (same key) until accepted.
    const key = `k-${randomBytes(6).toString("hex")}`;
    let next: Answer | undefined;
    await waitUntil(
      "the next write accepted",
      async () => {
        next = await write(quick.url, "PUT", path, { title: "final" }, { "idempotency-key": key });
        if (next.status !== 202) expect(next.status).toBe(503);
        return next.status === 202;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    if (next === undefined) throw new Error("unreachable");
    await applied(next.json.command_id);

    // Long past anything the discarded producer could still retry (its deadline, its
    // bounded retries): whatever of the late PUT reached the log is before the final one.
    const reader = await topicReader(kafka.brokers, topic);
    try {
      const finalId = next.json.command_id;
      await waitUntil("the final write read back from the topic", () =>
        reader.received.some((r) => r.value?.includes(finalId) === true),
      );
      await sleep(3 * SHORT_DEADLINE_MS + 4_000);
      const forTodo = reader.received
        .filter((r) => r.key === created.json.id)
        .map(
          (r) => JSON.parse(r.value ?? "{}") as { command_id: string; data: { title?: string } },
        );
      expect(forTodo.at(-1)?.command_id, "the accepted write is the todo's last command").toBe(
        finalId,
      );
      const titles = forTodo.map((c) => c.data.title);
      expect(titles.filter((t) => t === "final")).toHaveLength(1);
    } finally {
      await reader.stop();
    }
    const { rows } = await db.query<{ title: string }>("SELECT title FROM todos WHERE id = $1", [
      created.json.id,
    ]);
    expect(rows).toEqual([{ title: "final" }]);
  }, 180_000);
});
