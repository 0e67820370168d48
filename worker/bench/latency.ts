import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { ServiceEndpoints } from "@million-rps/local";
import { type CommandEnvelope, encodeCommand, newId } from "@million-rps/shared";
import { dlqTopicOf } from "@million-rps/shared/config";
import { ensureCommandTopics } from "@million-rps/shared/topics";
import { SignJWT } from "jose";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { type BenchProcess, benchEnv, freePort, scrapeMetrics, startProcess } from "./processes";

/** The deployables the second half of the benchmark drives, as the local stack runs them. */
export const VISIBILITY_ENTRIES = ["write-lambdas/src/adapter/main.ts", "read-fleet/src/main.ts"];

export interface VisibilityOptions {
  writesPerSec: number;
  latencySeconds: number;
  partitions: number;
  logDir: string;
}

export interface VisibilityResult {
  sent: number;
  accepted: number;
  achievedPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Accepted writes never seen on the first two pages of GET /todos within the grace period. */
  unseen: number;
  /** Of those, how many GET /todos/:id finds at the end (the rest would be lost writes). */
  unseenButStored: number;
  polls: number;
  /** How long one GET /todos took, and one write until accepted (p50, p99): where time goes. */
  pollMs: { p50: number; p99: number };
  acceptMs: { p50: number; p99: number };
}

export interface VisibilityRun {
  /** Through the write API (POST /todos, 202 once Kafka acked): the figure the brief asks for. */
  writeApi: VisibilityResult;
  /** Straight to Kafka (acks=all), same rate: the worker and read fleet without the write API. */
  kafka: VisibilityResult;
  workerMetrics: Record<string, number>;
  /** CPU seconds of each child process over both runs (the read fleet's supervisor only). */
  cpuSeconds: Record<string, number>;
}

const USERS = ["alice", "bob", "carol", "dave", "erin"];

/** Sends write number i; resolves with the todo id once it is accepted, or null. */
type WriteSource = (i: number) => Promise<string | null>;

/**
 * Open-loop writes at a steady rate while one poller reads GET /todos?limit=100 from
 * the read fleet back to back, and the page after it (its `Link`). A write's latency
 * runs from its acceptance to the first page that showed its id (a page that showed
 * it earlier counts as zero). The second page matters when acknowledgements come in
 * a burst (a stall upstream of the 202): more than 100 todos can then become visible
 * in one move, and the older of them are on GET /todos, only not in its first 100.
 */
export async function measureVisibility(
  services: ServiceEndpoints,
  o: VisibilityOptions,
): Promise<VisibilityRun> {
  const topic = `bench-latency-${Date.now().toString(36)}`;
  const kafka = new Kafka({ brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING });
  await ensureCommandTopics(kafka, {
    topic,
    dlqTopic: dlqTopicOf(topic),
    partitions: o.partitions,
  });

  const secret = randomBytes(32).toString("hex"); // per run, never stored
  const [writePort, readPort] = [await freePort(), await freePort()];
  const common = { ...benchEnv(services, topic), LOG_LEVEL: "info" };
  const started: BenchProcess[] = [];
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  try {
    const worker = await startProcess(
      "worker-latency",
      "worker/src/main.ts",
      { ...common, KAFKA_GROUP_ID: `bench-${topic}` },
      o.logDir,
    );
    started.push(worker);
    started.push(
      await startProcess(
        "read-fleet",
        "read-fleet/src/main.ts",
        { ...common, HTTP_PORT: String(readPort), HTTP_HOST: "127.0.0.1", READ_PROCESSES: "1" },
        o.logDir,
        `http://127.0.0.1:${readPort}/readyz`,
      ),
    );
    started.push(
      await startProcess(
        "write-api",
        "write-lambdas/src/adapter/main.ts",
        { ...common, WRITE_HTTP_PORT: String(writePort), JWT_SECRET: secret },
        o.logDir,
      ),
    );
    await producer.connect();
    const readUrl = `http://127.0.0.1:${readPort}`;
    const kafkaRun = await drive(readUrl, viaKafka(producer, topic), o);
    const tokens = await Promise.all(USERS.map((u) => token(u, secret)));
    const apiRun = await drive(readUrl, viaWriteApi(`http://127.0.0.1:${writePort}`, tokens), o);
    return {
      writeApi: apiRun,
      kafka: kafkaRun,
      workerMetrics: await scrapeMetrics(Number(worker.readyLine.admin_port)),
      cpuSeconds: Object.fromEntries(started.map((p) => [p.name, p.cpuSeconds()])),
    };
  } finally {
    await producer.disconnect().catch(() => {});
    for (const p of started.reverse()) await p.stop();
  }
}

function viaWriteApi(writeUrl: string, tokens: readonly string[]): WriteSource {
  return async function post(i) {
    const res = await fetch(`${writeUrl}/todos`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${tokens[i % tokens.length]}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ title: `bench write ${i}`, description: "accepted-to-visible" }),
    });
    const json = (await res.json()) as { id?: string };
    return res.status === 202 && typeof json.id === "string" ? json.id : null;
  };
}

/** The command the write API would have produced, sent the way it sends it (acks=all). */
function viaKafka(producer: Producer, topic: string): WriteSource {
  return async function produce(i) {
    const command: CommandEnvelope = {
      v: 1,
      command_id: newId(),
      todo_id: newId(),
      actor: USERS[i % USERS.length] ?? "alice",
      issued_at: new Date().toISOString(),
      type: "create",
      data: { title: `bench produce ${i}`, description: "produced-to-visible", completed: false },
    };
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: command.todo_id, value: encodeCommand(command) }],
    });
    return command.todo_id;
  };
}

async function drive(
  readUrl: string,
  send: WriteSource,
  o: VisibilityOptions,
): Promise<VisibilityResult> {
  const acceptedAt = new Map<string, number>(); // todo id -> time it was accepted
  const firstSeen = new Map<string, number>(); // todo id -> first page that showed it
  const pollMs: number[] = [];
  const acceptMs: number[] = [];
  let polling = true;

  // Every id a page shows is noted, even before its write was acknowledged: a slow
  // acknowledgement must not hide a write that was visible all along.
  const note = (body: string, now: number) => {
    for (const m of body.matchAll(/"id"\s*:\s*"([0-9a-f-]{36})"/g)) {
      const id = m[1] as string;
      if (!firstSeen.has(id)) firstSeen.set(id, now);
    }
  };
  const poller = (async () => {
    while (polling) {
      const asked = performance.now();
      const res = await fetch(`${readUrl}/todos?limit=100`);
      const body = await res.text();
      const now = performance.now();
      pollMs.push(now - asked);
      if (res.status !== 200) continue;
      note(body, now);
      const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get("link") ?? "")?.[1];
      if (next === undefined) continue;
      const second = await fetch(new URL(next, readUrl));
      const secondBody = await second.text();
      if (second.status === 200) note(secondBody, performance.now());
    }
  })();
  const unseen = () => [...acceptedAt.keys()].filter((id) => !firstSeen.has(id));

  // Open loop: each write starts on its schedule, whether or not earlier ones finished.
  const total = o.writesPerSec * o.latencySeconds;
  const interval = 1000 / o.writesPerSec;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 1) await sleep(wait);
    const asked = performance.now();
    inflight.push(
      send(i).then(
        (id) => {
          const at = performance.now();
          acceptMs.push(at - asked);
          if (id !== null) acceptedAt.set(id, at);
        },
        () => {},
      ),
    );
  }
  const achievedPerSec = total / ((performance.now() - start) / 1000);
  await Promise.all(inflight);
  const grace = performance.now() + 5_000;
  while (unseen().length > 0 && performance.now() < grace) await sleep(20);
  polling = false;
  await poller;
  // Never on the first two pages is not the same as lost: look each one up by id.
  const unseenIds = unseen();
  let unseenButStored = 0;
  for (const id of unseenIds) {
    const res = await fetch(`${readUrl}/todos/${id}`);
    await res.arrayBuffer();
    if (res.status === 200) unseenButStored++;
  }

  // A write never seen counts as slower than any seen one, so it can only push p99 up.
  const latencies = [...acceptedAt].map(([id, at]) => {
    const seen = firstSeen.get(id);
    return seen === undefined ? Number.POSITIVE_INFINITY : Math.max(0, seen - at);
  });
  const p = percentiles(latencies);
  return {
    sent: total,
    accepted: acceptedAt.size,
    achievedPerSec,
    p50Ms: p.p50,
    p99Ms: p.p99,
    maxMs: latencies.filter(Number.isFinite).reduce((a, b) => Math.max(a, b), 0),
    unseen: unseenIds.length,
    unseenButStored,
    polls: pollMs.length,
    pollMs: percentiles(pollMs),
    acceptMs: percentiles(acceptMs),
  };
}

function percentiles(values: readonly number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

function token(sub: string, secret: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(secret));
}
