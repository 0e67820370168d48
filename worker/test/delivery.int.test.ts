import {
  freshDatabase,
  freshKeyPrefix,
  freshTopics,
  testServices,
  uniqueName,
  waitUntil,
} from "@million-rps/local/testing";
import {
  buildEntry,
  type ChangeSet,
  type CommandEnvelope,
  cacheKeys,
  decodeChangeSet,
  decodeEntry,
  encodeCommand,
  encodeEntry,
  itemSubject,
  queryCommandJson,
  readChangeLog,
} from "@million-rps/shared";
import { sampleSum } from "@million-rps/shared/metrics";
import { Redis } from "ioredis";
import { Kafka, type KafkaMessage, logLevel } from "kafkajs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../bench/workload";
import { parseWorkerConfig } from "../src/config";
import type { WorkerHandle } from "../src/worker";
import { startWorker } from "../src/worker";
import { workerEnv } from "./support/env";
import { produce, readTodos } from "./support/stream";

let pool: pg.Pool;
let redis: Redis;
let worker: WorkerHandle;
let topic: string;
let dlqTopic: string;
let keyPrefix: string;

const random = seededRandom(Date.now() % 2 ** 31);
function uuid(): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}
let clock = Date.parse("2025-06-01T00:00:00Z");
function command(
  type: CommandEnvelope["type"],
  todoId: string,
  actor: string,
  data: Record<string, unknown> = {},
): CommandEnvelope {
  clock += 1;
  return {
    v: 1,
    command_id: uuid(),
    todo_id: todoId,
    actor,
    issued_at: new Date(clock).toISOString(),
    type,
    data,
  } as CommandEnvelope;
}
const create = (todoId: string, actor: string, title = "buy milk") =>
  command("create", todoId, actor, { title, description: "", completed: false });

async function statusOf(commandId: string): Promise<Record<string, unknown> | null> {
  const json = await queryCommandJson(pool, commandId);
  return json === null ? null : (JSON.parse(json) as Record<string, unknown>);
}
async function waitForStatus(commandId: string): Promise<Record<string, unknown>> {
  let status: Record<string, unknown> | null = null;
  await waitUntil(`status of ${commandId}`, async () => {
    status = await statusOf(commandId);
    return status !== null;
  });
  return status as unknown as Record<string, unknown>;
}

/**
 * Returns once every record produced on `key`'s partition before the call was handled
 * to the end of its slice (dead letters recorded too). The second marker is produced
 * after the first was applied, so it cannot share a slice with anything before it.
 */
async function handledUpToHere(key: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const marker = create(uuid(), "marker");
    await produce(topic, [{ key, value: encodeCommand(marker) }]);
    await waitForStatus(marker.command_id);
  }
}

beforeAll(async () => {
  const databaseUrl = await freshDatabase();
  ({ topic, dlqTopic } = await freshTopics(3));
  keyPrefix = freshKeyPrefix();
  pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  redis = new Redis(testServices().redisUrl);
  const config = parseWorkerConfig(workerEnv({ databaseUrl, topic, dlqTopic, keyPrefix }));
  worker = await startWorker(config);
});
afterAll(async () => {
  await worker?.stop();
  await pool?.end();
  redis?.disconnect();
});

describe("delivery", () => {
  it("applies the same command delivered twice once", async () => {
    const id = uuid();
    const created = create(id, "alice");
    const rename = command("update", id, "alice", { title: "first" });
    const later = command("update", id, "alice", { title: "second" });
    await produce(topic, [created, rename]);
    await waitForStatus(rename.command_id);
    // The same update again (a producer retry, or a redelivery), after a newer update.
    await produce(topic, [later, rename, created]);
    await waitForStatus(later.command_id);
    const sentinel = command("update", id, "alice", { completed: true });
    await produce(topic, [sentinel]);
    await waitForStatus(sentinel.command_id);
    const row = (await readTodos(pool)).get(id);
    expect(row).toMatchObject({ title: "second", completed: true, version: 4 });
    const { rows } = await pool.query(
      "SELECT count(*)::int AS n FROM commands WHERE todo_id = $1",
      [id],
    );
    expect(rows[0].n).toBe(4);
  });

  it("rejects updates and deletes from a non-owner and leaves the todo unchanged", async () => {
    const id = uuid();
    const created = create(id, "alice", "alice's todo");
    await produce(topic, [created]);
    await waitForStatus(created.command_id);
    const before = (await readTodos(pool)).get(id);
    const steal = command("update", id, "bob", { title: "bob's now", completed: true });
    const remove = command("delete", id, "bob");
    const recreate = create(id, "bob", "bob's now");
    const ghost = command("update", uuid(), "alice", { completed: true });
    await produce(topic, [steal, remove, recreate, ghost]);
    for (const c of [steal, remove, recreate]) {
      expect(await waitForStatus(c.command_id)).toMatchObject({
        status: "rejected",
        reason: "forbidden",
      });
    }
    expect(await waitForStatus(ghost.command_id)).toMatchObject({
      status: "rejected",
      reason: "not_found",
    });
    expect((await readTodos(pool)).get(id)).toEqual(before);
  });

  it("sends poison messages to the DLQ with their reason and bytes, and applies what follows", async () => {
    const id = uuid();
    const first = create(id, "carol");
    const nul = create(uuid(), "carol", "nul \u0000 byte"); // refused by validation: poison
    // A valid command the database refuses (here: a constraint only this test's database has)
    // is isolated from its batch and dead-lettered; the rest of the batch is applied.
    await pool.query(
      "ALTER TABLE todos ADD CONSTRAINT test_refused CHECK (title <> 'refused by the database')",
    );
    const refused = create(uuid(), "carol", "refused by the database");
    const after = command("update", id, "carol", { title: "after the poison" });
    const poison = [
      { key: id, value: Buffer.from("not json {") },
      { key: id, value: Buffer.from(JSON.stringify({ ...first, v: 9 })) },
      { key: id, value: Buffer.from(JSON.stringify({ ...first, type: "archive" })) },
      { key: id, value: Buffer.from(JSON.stringify({ ...first, data: { title: 7 } })) },
    ];
    await produce(topic, [
      first,
      ...poison,
      { key: nul.todo_id, value: encodeCommand(nul) },
      { key: refused.todo_id, value: encodeCommand(refused) },
      { key: id, value: encodeCommand(after) },
    ]);
    expect(await waitForStatus(after.command_id)).toMatchObject({ status: "applied" });
    expect((await readTodos(pool)).get(id)?.title).toBe("after the poison");

    const letters = await readDeadLetters(6);
    const byValue = new Map(letters.map((m) => [m.value?.toString(), m]));
    const reasons = [
      ...poison.map((p) => p.value.toString()),
      encodeCommand(nul).toString(),
      encodeCommand(refused).toString(),
    ].map((v) => byValue.get(v)?.headers?.["dlq-reason"]?.toString());
    expect(reasons).toEqual([
      "not JSON",
      "unsupported version 9",
      'unknown type "archive"',
      "create data: title must be a string",
      "create data: title must not contain control characters",
      expect.stringMatching(/^database refused the command: 23514 /),
    ]);
    expect(byValue.get("not json {")?.key?.toString()).toBe(id);
    // A command the database refused ends rejected / invalid, recorded whole. Poison is
    // only dead-lettered (a corrupted copy must never take a real command's id): the
    // poison copies of `first` leave it applied, and `nul` stays unrecorded.
    expect(await waitForStatus(refused.command_id)).toMatchObject({
      status: "rejected",
      reason: "invalid",
      todo_id: refused.todo_id,
      type: "create",
    });
    expect(await statusOf(first.command_id)).toMatchObject({ status: "applied", reason: null });
    expect(await statusOf(nul.command_id)).toBeNull();
  });

  it("records refused commands once (whole, or by id when refused again), never poison", async () => {
    const count = (outcome: string) => sampleSum(worker.metrics.commands, { outcome });
    const [rejectedBefore, deadBefore] = [
      await count("rejected_invalid"),
      await count("dead_letter"),
    ];
    await pool.query(
      `ALTER TABLE todos DROP CONSTRAINT IF EXISTS test_refused_again;
       ALTER TABLE todos ADD CONSTRAINT test_refused_again CHECK (title <> 'refused again')`,
    );
    const key = uuid(); // one partition for all, so they are handled in this order
    // Poison with a readable id, of this version and of another: dead-lettered only.
    const unknownType = { ...create(uuid(), "erin"), type: "archive" };
    const newerVersion = { ...create(uuid(), "erin"), v: 2 };
    // Refused by the database: recorded whole, even beside one that is recorded by its id
    // alone because Postgres cannot store its actor (a NUL) in the commands row either.
    const refusedWhole = create(uuid(), "erin", "refused again");
    const nulActor = create(uuid(), "er\u0000in");
    const values = [
      JSON.stringify(unknownType),
      JSON.stringify(newerVersion),
      encodeCommand(refusedWhole),
      encodeCommand(nulActor),
    ];
    const records = () => values.map((v) => ({ key, value: Buffer.from(v) }));
    await produce(topic, records());
    await handledUpToHere(key);
    expect(await statusOf(unknownType.command_id)).toBeNull();
    expect(await statusOf(newerVersion.command_id)).toBeNull();
    expect(await statusOf(refusedWhole.command_id)).toMatchObject({
      status: "rejected",
      reason: "invalid",
      todo_id: refusedWhole.todo_id,
      type: "create",
    });
    expect(await statusOf(nulActor.command_id)).toMatchObject({
      status: "rejected",
      reason: "invalid",
      todo_id: null,
      type: null,
    });
    expect((await count("rejected_invalid")) - rejectedBefore).toBe(2);
    const recordedRows = async () =>
      (
        await pool.query(
          "SELECT command_id::text, recorded_at FROM commands WHERE command_id = ANY($1) ORDER BY 1",
          [[refusedWhole.command_id, nulActor.command_id]],
        )
      ).rows;
    const rows = await recordedRows();
    expect(rows).toHaveLength(2);

    // The same records again (a redelivery): dead-lettered again, nothing recorded anew.
    await produce(topic, records());
    await handledUpToHere(key);
    expect((await count("dead_letter")) - deadBefore).toBe(2 * values.length);
    expect((await count("rejected_invalid")) - rejectedBefore).toBe(2);
    expect(await recordedRows()).toEqual(rows);
  });

  // Regression (issue 13): a worker SIGKILLed between its commit and its publication (or
  // whose offsets were committed first) left readers stale until the TTL: the member that
  // takes over cannot know what was missed, so the group leader publishes a reset on join.
  it("the group leader publishes a reset when it joins", async () => {
    const keys = cacheKeys(keyPrefix);
    await waitUntil(
      "a change set in the log",
      async () => (await readChangeLog(redis, keys, 0)).length > 0,
    );
    const [first] = (await readChangeLog(redis, keys, 0)).map(decodeChangeSet);
    expect(first).toMatchObject({ seq: 1, reset: true });
    expect(Number(await redis.get(keys.floor))).toBeGreaterThanOrEqual(
      first?.generation ?? Infinity,
    );
  });

  it("rewrites the L2 entry of a changed todo a reader cached, and never one nobody cached", async () => {
    const keys = cacheKeys(keyPrefix);
    const cachedId = uuid();
    const otherId = uuid();
    await produce(topic, [create(cachedId, "erin", "before"), create(otherId, "erin", "before")]);
    await waitUntil("both created", async () => (await readTodos(pool)).has(otherId));
    // A reader cached the first one (any entry there, stamped long ago).
    const old = await buildEntry(0, itemSubject(cachedId, '{"old":true}'), '{"old":true}');
    await redis.set(keys.item(cachedId), encodeEntry(old), "EX", 60);
    const rename = (id: string) => command("update", id, "erin", { title: "after" });
    await produce(topic, [rename(cachedId), rename(otherId)]);
    await waitUntil("the cached entry rewritten", async () => {
      const value = await redis.getBuffer(keys.item(cachedId));
      return value !== null && (decodeEntry(value)?.stamp ?? 0) > 0;
    });
    const entry = decodeEntry((await redis.getBuffer(keys.item(cachedId))) as Buffer);
    expect(JSON.parse(entry?.identity.toString() ?? "{}")).toMatchObject({
      id: cachedId,
      title: "after",
    });
    expect(await redis.exists(keys.item(otherId))).toBe(0);
  });

  it("publishes a change only after the hot page that reflects it is in L2", async () => {
    const keys = cacheKeys(keyPrefix);
    const sub = new Redis(testServices().redisUrl);
    const seen: { cs: ChangeSet; stamp: number; ids: readonly string[] }[] = [];
    try {
      sub.on("message", (_channel, message) => {
        const cs = decodeChangeSet(message);
        if (cs === null) return;
        // Read the page the moment the change is announced, as a reader would.
        void redis.getBuffer(keys.page(100, null)).then((value) => {
          const entry = value === null ? null : decodeEntry(value);
          const ids = entry?.subject.kind === "page" ? entry.subject.ids : [];
          seen.push({ cs, stamp: entry?.stamp ?? -1, ids });
        });
      });
      await sub.subscribe(keys.invalidationChannel);
      const id = uuid();
      const c = create(id, "dave", "fresh");
      await produce(topic, [c]);
      await waitUntil("a change set naming the new todo", () =>
        seen.some((s) => s.cs.changes.some((x) => x.id === id)),
      );
      const announced = seen.find((s) => s.cs.changes.some((x) => x.id === id));
      expect(announced?.stamp).toBeGreaterThanOrEqual(announced?.cs.generation ?? Infinity);
      expect(announced?.ids).toContain(id);
      // Its position is created_at to the microsecond, as Postgres holds it.
      const { rows } = await pool.query<{ micros: string }>(
        "SELECT (extract(epoch FROM created_at) * 1000000)::bigint::text AS micros FROM todos WHERE id = $1",
        [id],
      );
      expect(announced?.cs.changes.find((x) => x.id === id)?.position?.micros).toBe(
        Number(rows[0]?.micros),
      );
      const entry = decodeEntry((await redis.getBuffer(keys.page(100, null))) as Buffer);
      expect(JSON.parse(entry?.identity.toString() ?? "[]")[0]).toMatchObject({
        id,
        title: "fresh",
        user_id: "dave",
        created_at: new Date(Date.parse(c.issued_at)).toISOString().replace("Z", "000Z"),
      });
      expect(await redis.ttl(keys.page(100, null))).toBeGreaterThan(0);
    } finally {
      sub.disconnect();
    }
  });
});

async function readDeadLetters(count: number): Promise<KafkaMessage[]> {
  const kafka = new Kafka({ brokers: testServices().kafkaBrokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName("dlq-reader-") });
  const out: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: dlqTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        out.push(message);
      },
    });
    await waitUntil(`${count} dead letters`, () => out.length >= count, { timeoutMs: 30_000 });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
