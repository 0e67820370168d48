/**
 * The write-path benchmark: `npm run bench:write [-- --commands 200000 --latency-seconds 30]`.
 *
 * 1. Apply rate: N mixed commands already in Kafka, one worker process applies them;
 *    compared with a raw batched INSERT ... SELECT unnest(...) of the same rows.
 * 2. Accepted-to-visible: a steady rate of POST /todos through the local write API,
 *    each new id awaited on GET /todos of the read fleet (p50/p99); then PATCHes of
 *    todos on pages 2-11 (--changes-per-sec, 100), each awaited on its GET /todos/:id
 *    and on its page.
 *
 * Starts private Postgres, Redis and Kafka (like the test run), prints one table and
 * writes it under results/ (git-ignored). The worker's cache knobs (CACHED_PAGES_MAX,
 * CACHED_PAGES_PUSH_BYTES, GENERATION_MIN_INTERVAL_MS, HOT_PAGES) reach the worker
 * when set, KAFKA_PRODUCERS the write API, and they head the command line in the
 * results.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type BenchFigure,
  dataDir,
  figureTable,
  repoRoot,
  startServices,
  writeFigureResults,
} from "@million-rps/local";
import { migrate } from "@million-rps/shared/migrations";
import pg from "pg";
import { measureApplyRate } from "./apply-rate";
import { type ChangeVisibility, measureVisibility, VISIBILITY_ENTRIES } from "./latency";
import { freePort, workerKnobs, writeApiKnobs } from "./processes";

const { values: args } = parseArgs({
  options: {
    commands: { type: "string", default: "200000" },
    partitions: { type: "string", default: "12" },
    "batch-size": { type: "string", default: "2000" },
    "pool-size": { type: "string", default: "2" },
    seed: { type: "string", default: "1" },
    "latency-seconds": { type: "string", default: "30" },
    "writes-per-sec": { type: "string", default: "500" },
    "changes-per-sec": { type: "string", default: "100" },
    "skip-latency": { type: "boolean", default: false },
  },
});
const num = (name: keyof typeof args) => {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};
const o = {
  commands: num("commands"),
  partitions: num("partitions"),
  batchSize: num("batch-size"),
  poolSize: num("pool-size"),
  seed: num("seed"),
  latencySeconds: num("latency-seconds"),
  writesPerSec: num("writes-per-sec"),
  changesPerSec: num("changes-per-sec"),
};
const perThousand = (seconds: number, n: number) => ((seconds / n) * 1e6).toFixed(1);
const knobs = Object.entries({ ...workerKnobs(), ...writeApiKnobs() }).map(
  ([k, v]) => `${k}=${v} `,
);
const command = `${knobs.join("")}npm run bench:write -- ${process.argv.slice(2).join(" ")}`.trim();
const say = (m: string) => process.stderr.write(`[bench:write] ${m}\n`);
const logDir = `bench-write-${process.pid}`;

// Explicit free loopback ports: the harness would otherwise reuse a running dev stack
// (npm start) at the default ports, and the benchmark must never write into that.
const [pgPort, redisPort, kafkaPort] = [await freePort(), await freePort(), await freePort()];
const services = await startServices({
  profile: "test",
  env: {
    DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/million_rps`,
    REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
    KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
  },
  onProgress: say,
});
const rows: BenchFigure[] = [];
const details: Record<string, unknown> = { options: o };
try {
  const pool = new pg.Pool({ connectionString: services.endpoints.databaseUrl, max: 1 });
  await migrate(pool);
  await pool.end();

  say(`apply rate: producing ${o.commands} commands to ${o.partitions} partitions`);
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const pgdata = join(services.instances.postgres?.dataDir ?? "", "pgdata");
  const a = await measureApplyRate(services.endpoints, {
    ...o,
    logDir,
    pgdata,
    say,
    ...(profileDir === undefined ? {} : { profileDir }),
  });
  const best = (n: number) => {
    const runs = a.raw.filter((r) => r.connections === n);
    return {
      rate: Math.max(...runs.map((r) => r.rate)),
      rates: runs.map((r) => Math.round(r.rate)).join(" / "),
      cpu: Math.min(...runs.map((r) => r.cpu.client + r.cpu.postgres)),
    };
  };
  const rawN = best(o.poolSize);
  const raw1 = best(1);
  const workerCpu = a.workerCpuSeconds + a.workerPostgresCpuSeconds;
  details.applyRate = a;
  rows.push(
    {
      figure: `worker apply rate (${a.distinct} distinct of ${a.produced} commands, ${a.applySeconds.toFixed(1)} s)`,
      value: `${Math.round(a.rate)} cmd/s`,
      target: ">= 10000 cmd/s",
      ok: a.rate >= 10_000,
    },
    {
      figure: "slowest full second of the apply",
      value: `${a.slowestSecond} cmd`,
      target: "",
      ok: null,
    },
    {
      figure: `raw INSERT ... SELECT unnest, same rows, ${o.poolSize} connections (before / after)`,
      value: `${Math.round(rawN.rate)} rows/s (${rawN.rates})`,
      target: "",
      ok: null,
    },
    {
      figure: "raw INSERT ... SELECT unnest, same rows, 1 connection (before / after)",
      value: `${Math.round(raw1.rate)} rows/s (${raw1.rates})`,
      target: "",
      ok: null,
    },
    // The brief's reference is "a raw batched INSERT ... SELECT unnest(...)": one stream
    // of batches. The line after it is stricter: the raw insert on as many connections as
    // the worker has statements in flight, i.e. Postgres alone on both cores.
    {
      figure: "apply rate / raw batched insert rate (1 connection)",
      value: (a.rate / raw1.rate).toFixed(2),
      target: ">= 0.35",
      ok: a.rate / raw1.rate >= 0.35,
    },
    {
      figure: `apply rate / raw insert rate on ${o.poolSize} connections (stricter)`,
      value: (a.rate / rawN.rate).toFixed(2),
      target: "",
      ok: null,
    },
    {
      figure: "CPU per 1000 commands: worker process + Postgres",
      value: `${perThousand(a.workerCpuSeconds, a.produced)} + ${perThousand(a.workerPostgresCpuSeconds, a.produced)} ms`,
      target: "",
      ok: null,
    },
    {
      figure: "CPU per 1000 rows, raw insert: client + Postgres (cheapest run)",
      value: `${perThousand(Math.min(rawN.cpu, raw1.cpu), a.distinct)} ms`,
      target: "",
      ok: null,
    },
    {
      figure: "CPU cost ratio: raw per row / worker per command (Kafka broker not counted)",
      value: (Math.min(rawN.cpu, raw1.cpu) / a.distinct / (workerCpu / a.produced)).toFixed(2),
      target: "",
      ok: null,
    },
    {
      figure: "final table and statuses equal the in-memory model",
      value: a.exact ? "exact" : (a.mismatch ?? "differs"),
      target: "exact",
      ok: a.exact,
    },
  );

  const missing = VISIBILITY_ENTRIES.filter((e) => !existsSync(join(repoRoot, e)));
  if (args["skip-latency"]) {
    say("accepted-to-visible: skipped (--skip-latency)");
  } else if (missing.length > 0) {
    say(`accepted-to-visible: not measured, missing ${missing.join(", ")}`);
    rows.push({
      figure: `accepted -> visible p99 at ${o.writesPerSec} writes/s`,
      value: `not measured: ${missing.join(", ")} missing`,
      target: "<= 250 ms",
      ok: false,
    });
  } else {
    say(`accepted-to-visible: ${o.writesPerSec} writes/s for ${o.latencySeconds} s`);
    const v = await measureVisibility(services.endpoints, { ...o, logDir });
    details.visibility = v;
    const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : "never");
    const api = v.writeApi;
    rows.push(
      {
        figure: `POST /todos accepted (202) at ${o.writesPerSec}/s for ${o.latencySeconds} s`,
        value: `${api.accepted} of ${api.sent} (sent at ${api.achievedPerSec.toFixed(0)}/s; 202 after p50 ${ms(api.acceptMs.p50)}, p99 ${ms(api.acceptMs.p99)})`,
        target: "all",
        ok: api.accepted === api.sent,
      },
      {
        figure: "accepted -> visible on GET /todos (pages 1-2 of 100), p50",
        value: ms(api.p50Ms),
        target: "",
        ok: null,
      },
      {
        figure: "accepted -> visible on GET /todos (pages 1-2 of 100), p99",
        value: `${ms(api.p99Ms)} (max seen ${ms(api.maxMs)}, ${unseenText(api)})`,
        target: "<= 250 ms",
        ok: api.p99Ms <= 250 && api.unseen === 0,
      },
      {
        figure:
          "the same, cut at the commit (commands.recorded_at): accepted -> committed, committed -> seen (p50 / p99)",
        value: `${ms(api.split.toCommit.p50)} / ${ms(api.split.toCommit.p99)}; ${ms(api.split.commitToSeen.p50)} / ${ms(api.split.commitToSeen.p99)}`,
        target: "",
        ok: null,
      },
      ...changeRows(v.changes, ms),
      {
        figure: `same rate straight to Kafka (no write API): acked -> visible p50 / p99`,
        value: `${ms(v.kafka.p50Ms)} / ${ms(v.kafka.p99Ms)} (${unseenText(v.kafka)})`,
        target: "",
        ok: null,
      },
    );
  }
} finally {
  await services.stop();
}
// Process logs stay in .data/ only when something failed.
if (!rows.some((r) => r.ok === false) && process.env.BENCH_KEEP_LOGS === undefined)
  rmSync(dataDir(logDir), { recursive: true, force: true });
else say(`process logs: ${dataDir(logDir)}`);

console.log(figureTable(rows));
const written = writeFigureResults({
  name: "write",
  title: "Write path benchmark",
  command,
  figures: rows,
  details,
  detailsInMarkdown: true,
});
console.log(`\nresults: ${written}`);
process.exitCode = rows.some((r) => r.ok === false) ? 1 : 0;

/** Writes never seen on the first two pages, and how many GET /todos/:id found anyway. */
function unseenText(r: { unseen: number; unseenButStored: number }): string {
  if (r.unseen === 0) return "0 never seen";
  return `${r.unseen} never seen on pages 1-2, of which ${r.unseenButStored} found by id`;
}

/** Accepted to visible for PATCHes of todos on deeper pages: on the todo's GET and on its page. */
function changeRows(c: ChangeVisibility, ms: (x: number) => string): BenchFigure[] {
  const where = `PATCH of todos on pages ${c.pages} at ${c.rate}/s`;
  return [
    {
      figure: `${where}: accepted (202)`,
      value: `${c.accepted} of ${c.sent} (${c.targets} todos, round robin)`,
      target: "all",
      ok: c.accepted === c.sent,
    },
    ...(["item", "page"] as const).map((what) => {
      const v = c[what];
      return {
        figure: `${where}: accepted -> visible on ${what === "item" ? "GET /todos/:id" : "its page"}, p50 / p99`,
        value: `${ms(v.p50)} / ${ms(v.p99)} (max seen ${ms(v.max)}, ${v.unseen} never seen in 5 s)`,
        target: "p99 <= 250 ms",
        ok: v.p99 <= 250 && v.unseen === 0,
      };
    }),
  ];
}
