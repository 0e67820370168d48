import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { ServiceEndpoints } from "@million-rps/local";
import { type CommandEnvelope, encodeCommand, newId } from "@million-rps/shared";
import { dlqTopicOf } from "@million-rps/shared/config";
import { ensureCommandTopics } from "@million-rps/shared/topics";
import { SignJWT } from "jose";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import pg from "pg";
import {
  type BenchProcess,
  benchEnv,
  freePort,
  scrapeMetrics,
  startProcess,
  workerKnobs,
  writeApiKnobs,
} from "./processes";

/** The deployables the second half of the benchmark drives, as the local stack runs them. */
export const VISIBILITY_ENTRIES = ["write-lambdas/src/adapter/main.ts", "read-fleet/src/main.ts"];

export interface VisibilityOptions {
  writesPerSec: number;
  /** Rate of the updates run (each watched by its own poller, so kept below the creates' rate). */
  changesPerSec: number;
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
  /**
   * Where a write's time goes, by the worker's `commands.recorded_at` (the commit's
   * clock): accepted to committed (Kafka, the fetch, the batch), and committed to first
   * seen (the publication, the fleet's refresh, the poll), for the writes seen.
   */
  split: { toCommit: { p50: number; p99: number }; commitToSeen: { p50: number; p99: number } };
}

/** Updates of todos on deeper pages: accepted to visible on the todo's own GET and on its page. */
export interface ChangeVisibility {
  rate: number;
  sent: number;
  accepted: number;
  /** Todos updated (round robin), and the pages of GET /todos?limit=100 they are on. */
  targets: number;
  pages: string;
  item: { p50: number; p99: number; max: number; unseen: number };
  page: { p50: number; p99: number; max: number; unseen: number };
}

export interface VisibilityRun {
  /** Through the write API (POST /todos, 202 once Kafka acked): the figure the brief asks for. */
  writeApi: VisibilityResult;
  /** PATCH of todos on pages 2-11 through the write API: their item and their page. */
  changes: ChangeVisibility;
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
      { ...common, ...workerKnobs(), KAFKA_GROUP_ID: `bench-${topic}` },
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
        { ...common, ...writeApiKnobs(), WRITE_HTTP_PORT: String(writePort), JWT_SECRET: secret },
        o.logDir,
      ),
    );
    await producer.connect();
    const readUrl = `http://127.0.0.1:${readPort}`;
    const tokens = await Promise.all(USERS.map((u) => token(u, secret)));
    const viaApi = viaWriteApi(`http://127.0.0.1:${writePort}`, tokens);
    const viaBroker = viaKafka(producer, topic);
    // A fresh broker loads its group and transaction coordinators on first use, and the
    // worker joins its group: seconds in which nothing is applied or accepted. The runs
    // measure the path once it works, so one write through each must be visible first.
    await warmUp(readUrl, viaBroker, "a command produced to Kafka");
    await warmUp(readUrl, viaApi, "a POST /todos through the write API");
    const db = new pg.Pool({ connectionString: services.databaseUrl, max: 1 });
    let kafkaRun: VisibilityResult;
    let apiRun: VisibilityResult;
    try {
      kafkaRun = await drive(readUrl, viaBroker, o, db);
      apiRun = await drive(readUrl, viaApi, o, db);
    } finally {
      await db.end();
    }
    const changes = await driveChanges(readUrl, `http://127.0.0.1:${writePort}`, secret, o);
    return {
      writeApi: apiRun,
      changes,
      kafka: kafkaRun,
      workerMetrics: await scrapeMetrics(Number(worker.readyLine.admin_port)),
      cpuSeconds: Object.fromEntries(started.map((p) => [p.name, p.cpuSeconds()])),
    };
  } finally {
    await producer.disconnect().catch(() => {});
    for (const p of started.reverse()) await p.stop();
  }
}

/**
 * Sends rounds of 32 writes at once through `send` (random todo ids: every producer of
 * the write API gets some) until a whole round is accepted, then waits until one of
 * them reads back by id; 60 s at most.
 */
async function warmUp(readUrl: string, send: WriteSource, what: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    const ids = await Promise.all(Array.from({ length: 32 }, (_, i) => send(i).catch(() => null)));
    const last = ids.at(-1);
    if (ids.every((id) => id !== null) && typeof last === "string") {
      while (performance.now() < deadline) {
        const res = await fetch(`${readUrl}/todos/${last}`);
        await res.arrayBuffer();
        if (res.status === 200) return;
        await sleep(50);
      }
    }
    await sleep(200);
  }
  throw new Error(`warm-up: ${what} was not accepted and visible within 60 s`);
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
  db: pg.Pool,
): Promise<VisibilityResult> {
  const acceptedAt = new Map<string, number>(); // todo id -> time it was accepted
  const epochOffset = Date.now() - performance.now(); // performance.now() + this = wall clock
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
      const next = nextPage(res);
      if (next === null) continue;
      const second = await fetch(new URL(next, readUrl));
      const secondBody = await second.text();
      if (second.status === 200) note(secondBody, performance.now());
    }
  })();
  const unseen = () => [...acceptedAt.keys()].filter((id) => !firstSeen.has(id));

  const total = o.writesPerSec * o.latencySeconds;
  const achievedPerSec = await openLoop(o.writesPerSec, total, (i) => {
    const asked = performance.now();
    return send(i).then(
      (id) => {
        const at = performance.now();
        acceptMs.push(at - asked);
        if (id !== null) acceptedAt.set(id, at);
      },
      () => {},
    );
  });
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
  const split = await commitSplit(db, acceptedAt, firstSeen, epochOffset);
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
    split,
  };
}

/** The accepted-to-seen time of each seen write, cut at its commit (`commands.recorded_at`). */
async function commitSplit(
  db: pg.Pool,
  acceptedAt: ReadonlyMap<string, number>,
  firstSeen: ReadonlyMap<string, number>,
  epochOffset: number,
): Promise<VisibilityResult["split"]> {
  const seen = [...acceptedAt.keys()].filter((id) => firstSeen.has(id));
  const r = await db.query<{ todo_id: string; at: string }>(
    `SELECT todo_id::text, (extract(epoch FROM recorded_at) * 1000)::float8::text AS at
       FROM commands WHERE type = 'create' AND todo_id = ANY($1::uuid[])`,
    [seen],
  );
  const toCommit: number[] = [];
  const commitToSeen: number[] = [];
  for (const row of r.rows) {
    const committed = Number(row.at);
    const accepted = (acceptedAt.get(row.todo_id) as number) + epochOffset;
    const visible = (firstSeen.get(row.todo_id) as number) + epochOffset;
    toCommit.push(Math.max(0, committed - accepted));
    commitToSeen.push(Math.max(0, visible - committed));
  }
  return { toCommit: percentiles(toCommit), commitToSeen: percentiles(commitToSeen) };
}

/**
 * Open loop: call i starts on its schedule (`perSec`), whether or not earlier ones
 * finished; resolves once all have, with the rate the starts achieved.
 */
async function openLoop(
  perSec: number,
  total: number,
  start: (i: number) => Promise<void>,
): Promise<number> {
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / perSec - performance.now();
    if (wait > 1) await sleep(wait);
    inflight.push(start(i));
  }
  const achieved = total / ((performance.now() - t0) / 1000);
  await Promise.all(inflight);
  return achieved;
}

/** The path and query of the `Link: rel="next"` page, null on the last page. */
function nextPage(res: Response): string | null {
  const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get("link") ?? "")?.[1];
  if (next === undefined) return null;
  const url = new URL(next, "http://next.invalid");
  return url.pathname + url.search;
}

interface Target {
  id: string;
  userId: string;
  /** The path of the page (limit 100) that shows it. */
  page: string;
}

/** Todos on pages `from`..`to` of GET /todos?limit=100, walked through the Link headers. */
async function pageTargets(readUrl: string, from: number, to: number): Promise<Target[]> {
  const out: Target[] = [];
  let path: string | null = "/todos?limit=100";
  for (let n = 1; n <= to && path !== null; n++) {
    const res = await fetch(new URL(path, readUrl));
    if (res.status !== 200) throw new Error(`the walk met ${res.status} at ${path}`);
    const rows = (await res.json()) as { id: string; user_id: string }[];
    if (n >= from) for (const r of rows) out.push({ id: r.id, userId: r.user_id, page: path });
    path = nextPage(res);
  }
  return out;
}

/**
 * Open-loop PATCHes of todos on pages 2-11 (a new title each; the todo keeps its place),
 * round robin so no todo is changed again while its last change is watched. From each
 * 202, a poller reads the todo's GET /todos/:id and its page every 10 ms until both show
 * the new title (5 s at most): accepted to visible for items and for deeper pages, which
 * the creates run (pages 1-2) cannot see.
 */
async function driveChanges(
  readUrl: string,
  writeUrl: string,
  secret: string,
  o: VisibilityOptions,
): Promise<ChangeVisibility> {
  const targets = await pageTargets(readUrl, 2, 11);
  if (targets.length === 0) throw new Error("no todos on pages 2-11 to update");
  const tokens = new Map<string, string>();
  for (const t of targets)
    if (!tokens.has(t.userId)) tokens.set(t.userId, await token(t.userId, secret));
  const item: number[] = [];
  const page: number[] = [];
  const fetchText = async (path: string) => (await fetch(new URL(path, readUrl))).text();
  const watch = async (t: Target, title: string, acceptedAt: number) => {
    const needle = JSON.stringify(title);
    let itemMs: number | null = null;
    let pageMs: number | null = null;
    while ((itemMs === null || pageMs === null) && performance.now() - acceptedAt < 5_000) {
      if (itemMs === null && (await fetchText(`/todos/${t.id}`)).includes(needle))
        itemMs = performance.now() - acceptedAt;
      if (pageMs === null && (await fetchText(t.page)).includes(needle))
        pageMs = performance.now() - acceptedAt;
      if (itemMs === null || pageMs === null) await sleep(10);
    }
    item.push(itemMs ?? Number.POSITIVE_INFINITY);
    page.push(pageMs ?? Number.POSITIVE_INFINITY);
  };
  const total = o.changesPerSec * o.latencySeconds;
  let accepted = 0;
  await openLoop(o.changesPerSec, total, (i) => {
    const t = targets[i % targets.length] as Target;
    const title = `bench update ${i}`;
    return fetch(`${writeUrl}/todos/${t.id}`, {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${tokens.get(t.userId)}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ title }),
    }).then(
      async (res) => {
        await res.arrayBuffer();
        if (res.status !== 202) return;
        accepted++;
        await watch(t, title, performance.now());
      },
      () => {},
    );
  });
  const summary = (v: number[]) => {
    const p = percentiles(v);
    return {
      ...p,
      max: v.filter(Number.isFinite).reduce((a, b) => Math.max(a, b), 0),
      unseen: v.filter((x) => !Number.isFinite(x)).length,
    };
  };
  return {
    rate: o.changesPerSec,
    sent: total,
    accepted,
    targets: targets.length,
    pages: "2-11",
    item: summary(item),
    page: summary(page),
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
