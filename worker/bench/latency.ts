import { randomBytes } from "node:crypto";
import { ensureTopics, type ServiceEndpoints } from "@million-rps/local";
import { SignJWT } from "jose";
import { Kafka, logLevel } from "kafkajs";
import { type BenchProcess, freePort, scrapeMetrics, startProcess } from "./processes";

/** The deployables the second half of the benchmark drives, as the local stack runs them. */
export const VISIBILITY_ENTRIES = ["write-lambdas/src/local/main.ts", "read-fleet/src/main.ts"];

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
  /** Accepted writes never seen on GET /todos within the grace period. */
  unseen: number;
  polls: number;
  /** How long one GET /todos took, and one POST /todos (p50, p99): where time goes. */
  pollMs: { p50: number; p99: number };
  postMs: { p50: number; p99: number };
  workerMetrics?: Record<string, number>;
}

const USERS = ["alice", "bob", "carol", "dave", "erin"];

/**
 * Open-loop writes at a steady rate through the write API (POST /todos, 202 once
 * Kafka acked), while one poller reads GET /todos?limit=100 from the read fleet back
 * to back. A write's latency runs from its 202 to the first page that shows its id.
 */
export async function measureVisibility(
  services: ServiceEndpoints,
  o: VisibilityOptions,
): Promise<VisibilityResult> {
  const topic = `bench-latency-${Date.now().toString(36)}`;
  const kafka = new Kafka({ brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    { topic, numPartitions: o.partitions },
    { topic: `${topic}.dlq`, numPartitions: 1 },
  ]);
  await admin.disconnect();

  const secret = randomBytes(32).toString("hex"); // per run, never stored
  const [writePort, readPort] = [await freePort(), await freePort()];
  const common = {
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    KAFKA_BROKERS: services.kafkaBrokers.join(","),
    KAFKA_TODO_TOPIC: topic,
    CACHE_KEY_PREFIX: `bench-${topic}`,
    ADMIN_PORT: "0",
    LOG_LEVEL: "warn",
  };
  const started: BenchProcess[] = [];
  try {
    started.push(
      await startProcess(
        "worker-latency",
        "worker/src/main.ts",
        { ...common, KAFKA_GROUP_ID: `bench-${topic}`, LOG_LEVEL: "info" },
        o.logDir,
      ),
    );
    started.push(
      await startProcess(
        "read-fleet",
        "read-fleet/src/main.ts",
        {
          ...common,
          HTTP_PORT: String(readPort),
          HTTP_HOST: "127.0.0.1",
          READ_WORKERS: "1",
          LOG_LEVEL: "info",
        },
        o.logDir,
        `http://127.0.0.1:${readPort}/readyz`,
      ),
    );
    started.push(
      await startProcess(
        "write-api",
        "write-lambdas/src/local/main.ts",
        { ...common, WRITE_HTTP_PORT: String(writePort), JWT_SECRET: secret, LOG_LEVEL: "info" },
        o.logDir,
      ),
    );
    const tokens = await Promise.all(USERS.map((u) => token(u, secret)));
    const result = await drive(
      `http://127.0.0.1:${writePort}`,
      `http://127.0.0.1:${readPort}`,
      tokens,
      o,
    );
    const worker = started[0];
    const workerMetrics =
      worker === undefined ? {} : await scrapeMetrics(Number(worker.readyLine.admin_port));
    return { ...result, workerMetrics };
  } finally {
    for (const p of started.reverse()) await p.stop();
  }
}

async function drive(
  writeUrl: string,
  readUrl: string,
  tokens: string[],
  o: VisibilityOptions,
): Promise<VisibilityResult> {
  const acceptedAt = new Map<string, number>(); // todo id -> time its 202 arrived
  const firstSeen = new Map<string, number>(); // todo id -> first page that showed it
  let sent = 0;
  let polls = 0;
  const pollMs: number[] = [];
  const postMs: number[] = [];
  let polling = true;

  // Every id a page shows is noted, even before its 202 arrived: a slow 202 must not
  // hide a write that was visible all along (it counts as visible at once).
  const poller = (async () => {
    while (polling) {
      const asked = performance.now();
      const res = await fetch(`${readUrl}/todos?limit=100`);
      const body = await res.text();
      const now = performance.now();
      pollMs.push(now - asked);
      polls++;
      if (res.status !== 200) continue;
      for (const m of body.matchAll(/"id"\s*:\s*"([0-9a-f-]{36})"/g)) {
        const id = m[1] as string;
        if (!firstSeen.has(id)) firstSeen.set(id, now);
      }
    }
  })();
  const unseenCount = () => [...acceptedAt.keys()].filter((id) => !firstSeen.has(id)).length;

  const write = async (i: number) => {
    const asked = performance.now();
    const res = await fetch(`${writeUrl}/todos`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${tokens[i % tokens.length]}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ title: `bench write ${i}`, description: "accepted-to-visible" }),
    });
    const at = performance.now();
    postMs.push(at - asked);
    const json = (await res.json()) as { id?: string };
    if (res.status === 202 && typeof json.id === "string") acceptedAt.set(json.id, at);
  };

  // Open loop: each write starts on its schedule, whether or not earlier ones finished.
  const total = o.writesPerSec * o.latencySeconds;
  const interval = 1000 / o.writesPerSec;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sent++;
    inflight.push(write(i).catch(() => {}));
  }
  const achievedPerSec = sent / ((performance.now() - start) / 1000);
  await Promise.all(inflight);
  const grace = performance.now() + 5_000;
  while (unseenCount() > 0 && performance.now() < grace)
    await new Promise((r) => setTimeout(r, 20));
  polling = false;
  await poller;

  // A write never seen counts as slower than any seen one, so it can only push p99 up.
  const latencies = [...acceptedAt].map(([id, at]) => {
    const seen = firstSeen.get(id);
    return seen === undefined ? Number.POSITIVE_INFINITY : Math.max(0, seen - at);
  });
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    sent,
    accepted: acceptedAt.size,
    achievedPerSec,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: latencies.filter(Number.isFinite).pop() ?? Number.NaN,
    unseen: unseenCount(),
    polls,
    pollMs: percentiles(pollMs),
    postMs: percentiles(postMs),
  };
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

function percentiles(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}
