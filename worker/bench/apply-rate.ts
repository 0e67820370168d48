import { setTimeout as sleep } from "node:timers/promises";
import type { ServiceEndpoints } from "@million-rps/local";
import { type CommandEnvelope, encodeCommand } from "@million-rps/shared";
import { dlqTopicOf } from "@million-rps/shared/config";
import { ensureCommandTopics } from "@million-rps/shared/topics";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import pg from "pg";
import { slices } from "../src/intake";
import { CommandStreamModel, type TodoRow } from "../src/model";
import { todoColumns } from "../src/write-plan";
import { benchEnv, postgresCpuSeconds, scrapeMetrics, startProcess } from "./processes";
import { generateWorkload } from "./workload";

export interface ApplyRateOptions {
  commands: number;
  partitions: number;
  batchSize: number;
  poolSize: number;
  seed: number;
  logDir: string;
  /** Data directory of the private Postgres, to read its CPU time from /proc. */
  pgdata: string;
  /** When set, the worker writes a V8 CPU profile there (open it in Chrome DevTools). */
  profileDir?: string;
  /** Progress lines for the long steps (producing, applying). */
  say?: (message: string) => void;
}

export interface RawRun {
  connections: number;
  rate: number;
  /** CPU seconds of the client process and of Postgres during the run. */
  cpu: { client: number; postgres: number };
}

export interface ApplyRateResult {
  produced: number;
  /** Distinct commands: what the worker records and the raw insert writes. */
  distinct: number;
  produceSeconds: number;
  applySeconds: number;
  rate: number;
  /** Slowest full second of the run. */
  slowestSecond: number;
  perSecond: number[];
  /** Raw insert runs: before the worker with 1 then N connections, after it with N then 1. */
  raw: RawRun[];
  workerCpuSeconds: number;
  /** Postgres CPU seconds while the worker applied the stream (includes its cache refills). */
  workerPostgresCpuSeconds: number;
  /** The worker's own counters at the end: apply time, slices, redone slices. */
  workerMetrics: Record<string, number>;
  exact: boolean;
  mismatch: string | null;
}

/**
 * Produces the stream, lets a worker process apply it from a standing start, and
 * reads the apply rate from the commands' own `recorded_at`. The reference is a raw
 * batched `INSERT ... SELECT unnest(...)` of one row per distinct command, same batch
 * size, with one connection and with as many as the worker has partitions in flight,
 * measured before and after the worker run (the faster of each counts).
 */
export async function measureApplyRate(
  services: ServiceEndpoints,
  o: ApplyRateOptions,
): Promise<ApplyRateResult> {
  const pool = new pg.Pool({
    connectionString: services.databaseUrl,
    max: o.poolSize + 1,
    options: "-c synchronous_commit=on", // as the worker's sessions
  });
  try {
    const topic = `bench-commands-${Date.now().toString(36)}`;
    const stream = generateWorkload({ count: o.commands, seed: o.seed });
    const model = new CommandStreamModel();
    model.apply(stream);
    const firsts = distinctCommands(stream);
    const kafka = new Kafka({ brokers: services.kafkaBrokers, logLevel: logLevel.NOTHING });
    await ensureCommandTopics(kafka, {
      topic,
      dlqTopic: dlqTopicOf(topic),
      partitions: o.partitions,
    });
    const say = o.say ?? (() => {});
    const produceSeconds = await produceAll(kafka, topic, stream, say);

    const raw = [
      await rawInsertRate(pool, firsts, o, 1, "raw_before_1"),
      await rawInsertRate(pool, firsts, o, o.poolSize, "raw_before_n"),
    ];
    const env = {
      ...benchEnv(services, topic),
      KAFKA_GROUP_ID: `bench-${topic}`,
      WORKER_CONCURRENCY: String(o.poolSize),
      WORKER_BATCH_SIZE: String(o.batchSize),
      DB_POOL_SIZE: String(o.poolSize + 1),
    };
    const profile =
      o.profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${o.profileDir}`];
    const worker = await startProcess(
      "worker-apply",
      "worker/src/main.ts",
      env,
      o.logDir,
      undefined,
      profile,
    );
    // Steady-state cost: from "ready" on (start-up compiles TypeScript, which is not applying).
    const pgCpuAtStart = postgresCpuSeconds(o.pgdata);
    const workerCpuAtStart = worker.cpuSeconds();
    const deadline = Date.now() + 120_000 + o.commands;
    const adminPort = Number(worker.readyLine.admin_port);
    // Poll the worker's own counters, not count(*): a scan of a table of millions of rows
    // every half second would take Postgres CPU from the run it measures. One count confirms.
    let reported = performance.now();
    const done = async () => {
      const recorded = recordedByWorker(await scrapeMetrics(adminPort));
      if (performance.now() - reported > 10_000) {
        reported = performance.now();
        say(`applied ${recorded} of ${model.results.size} distinct commands`);
      }
      return (
        recorded >= model.results.size && (await count(pool, "commands")) >= model.results.size
      );
    };
    say(`apply rate: a worker applies them (WORKER_CONCURRENCY=${o.poolSize})`);
    while (!(await done())) {
      if (worker.child.exitCode !== null) throw new Error(`worker exited; see ${worker.logFile}`);
      if (Date.now() > deadline) throw new Error(`worker did not finish; see ${worker.logFile}`);
      await sleep(250);
    }
    const workerCpuSeconds = worker.cpuSeconds() - workerCpuAtStart;
    const workerPostgresCpuSeconds = postgresCpuSeconds(o.pgdata) - pgCpuAtStart;
    const metrics = await scrapeMetrics(adminPort);
    await worker.stop();

    const timing = await recordedTiming(pool);
    const mismatch = await compareWithModel(pool, model);
    raw.push(await rawInsertRate(pool, firsts, o, o.poolSize, "raw_after_n"));
    raw.push(await rawInsertRate(pool, firsts, o, 1, "raw_after_1"));
    const perSecond = timing.perSecond;
    return {
      produced: stream.length,
      distinct: model.results.size,
      produceSeconds,
      applySeconds: timing.seconds,
      rate: model.results.size / timing.seconds,
      slowestSecond: perSecond.length > 2 ? Math.min(...perSecond.slice(1, -1)) : Number.NaN,
      perSecond,
      raw,
      workerCpuSeconds,
      workerPostgresCpuSeconds,
      workerMetrics: metrics,
      exact: mismatch === null,
      mismatch,
    };
  } finally {
    await pool.end();
  }
}

function distinctCommands(stream: readonly CommandEnvelope[]): TodoRow[] {
  const seen = new Set<string>();
  const rows: TodoRow[] = [];
  for (const c of stream) {
    if (seen.has(c.command_id)) continue;
    seen.add(c.command_id);
    const data = c.data as { title?: string; description?: string; completed?: boolean };
    rows.push({
      id: c.command_id,
      title: data.title ?? "untitled",
      description: data.description ?? "",
      completed: data.completed ?? false,
      user_id: c.actor,
      created_at: c.issued_at,
      updated_at: c.issued_at,
      version: 1,
    });
  }
  return rows;
}

async function produceAll(
  kafka: Kafka,
  topic: string,
  stream: readonly CommandEnvelope[],
  say: (message: string) => void,
) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const started = performance.now();
  let sent = 0;
  let reported = 0;
  // One send at a time keeps each todo's commands in order within its partition.
  for (const part of slices(stream, 5_000)) {
    await producer.send({
      topic,
      acks: -1,
      messages: part.map((c) => ({ key: c.todo_id, value: encodeCommand(c) })),
    });
    sent += part.length;
    if (performance.now() - reported > 10_000) {
      reported = performance.now();
      say(`produced ${sent} of ${stream.length} (${Math.round((100 * sent) / stream.length)}%)`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await producer.disconnect();
  return seconds;
}

/** The floor: the same rows into a table shaped like `todos`, batched, as fast as Postgres takes them. */
async function rawInsertRate(
  pool: pg.Pool,
  rows: readonly TodoRow[],
  o: ApplyRateOptions,
  connections: number,
  table: string,
): Promise<RawRun> {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.query(`CREATE TABLE ${table} (LIKE todos INCLUDING ALL)`);
  const batches = [...slices(rows, o.batchSize)];
  let next = 0;
  const pgCpu = postgresCpuSeconds(o.pgdata);
  const clientCpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = await pool.connect();
      try {
        for (let b = batches[next++]; b !== undefined; b = batches[next++]) {
          await client.query("BEGIN");
          await client.query(
            `INSERT INTO ${table} (id, title, description, completed, user_id, created_at, updated_at, version)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bool[], $5::text[],
               $6::timestamptz[], $7::timestamptz[], $8::bigint[])`,
            todoColumns(b),
          );
          await client.query("COMMIT");
        }
      } finally {
        client.release();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientCpu);
  const cpu = {
    client: (client.user + client.system) / 1e6,
    postgres: postgresCpuSeconds(o.pgdata) - pgCpu,
  };
  await pool.query(`DROP TABLE ${table}`);
  return { connections, rate: rows.length / seconds, cpu };
}

/** Commands the worker recorded (applied or rejected), from its /metrics counters. */
function recordedByWorker(metrics: Record<string, number>): number {
  let n = 0;
  for (const [name, value] of Object.entries(metrics)) {
    if (
      name.startsWith("worker_commands_total") &&
      /outcome="(applied|rejected_[a-z_]+)"/.test(name)
    ) {
      n += value;
    }
  }
  return n;
}

async function count(pool: pg.Pool, table: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? 0;
}

/** Apply time from the database's own clock: first to last recorded command, and each second's count. */
async function recordedTiming(pool: pg.Pool): Promise<{ seconds: number; perSecond: number[] }> {
  const span = await pool.query<{ seconds: number }>(
    "SELECT extract(epoch FROM max(recorded_at) - min(recorded_at))::float8 AS seconds FROM commands",
  );
  // In time order (the first and last seconds are partial): a gap second counts as 0.
  const buckets = await pool.query<{ n: number }>(
    `WITH b AS (
       SELECT floor(extract(epoch FROM recorded_at - (SELECT min(recorded_at) FROM commands)))::int AS s
       FROM commands)
     SELECT count(b.s)::int AS n
     FROM generate_series(0, (SELECT max(s) FROM b)) AS g(s) LEFT JOIN b ON b.s = g.s
     GROUP BY g.s ORDER BY g.s`,
  );
  return { seconds: span.rows[0]?.seconds ?? Number.NaN, perSecond: buckets.rows.map((r) => r.n) };
}

/** Null when the table and every command status equal the model's; otherwise what differs first. */
async function compareWithModel(pool: pg.Pool, model: CommandStreamModel): Promise<string | null> {
  const { rows } = await pool.query<TodoRow>(`
    SELECT id::text, title, description, completed, user_id,
      (extract(epoch FROM created_at) * 1000)::float8::text AS created_at,
      (extract(epoch FROM updated_at) * 1000)::float8::text AS updated_at,
      version::float8 AS version FROM todos`);
  if (rows.length !== model.todos.size)
    return `${rows.length} todos, model has ${model.todos.size}`;
  for (const r of rows) {
    const m = model.todos.get(r.id);
    const same =
      m !== undefined &&
      m.title === r.title &&
      m.description === r.description &&
      m.completed === r.completed &&
      m.user_id === r.user_id &&
      Date.parse(m.created_at) === Number(r.created_at) &&
      Date.parse(m.updated_at) === Number(r.updated_at) &&
      m.version === r.version;
    if (!same) return `todo ${r.id} differs: ${JSON.stringify(r)} vs ${JSON.stringify(m)}`;
  }
  const statuses = await pool.query<{ id: string; status: string; reason: string | null }>(
    "SELECT command_id::text AS id, status, reason FROM commands",
  );
  if (statuses.rows.length !== model.results.size) return "command count differs";
  for (const s of statuses.rows) {
    const m = model.results.get(s.id);
    if (m?.status !== s.status || m.reason !== s.reason) return `command ${s.id} differs`;
  }
  return null;
}
