/**
 * A/B of two read fleets under the same writes, in one run, rounds alternating:
 * this checkout's fleet (A), the fleet of another checkout (B: an older revision,
 * say), and this checkout's fleet on another key prefix, told of no change (the
 * control). Each reads page 1 from wrk in turn while a steady stream of creates goes
 * through the write API; CPU per read is each fleet's whole process tree over its
 * own window. What A and B cost over the control is what change sets cost them.
 *
 *   npm start                                       # the stack: Postgres, Redis, Kafka, worker, write API
 *   git worktree add .data/ab-base <rev> && (cd .data/ab-base && npm ci)
 *   npm run bench:ab -- .data/ab-base
 *
 * AB_RATE (500 creates/s), AB_ROUNDS (4), AB_SECONDS (8), AB_PACE_MS (2: each
 * connection waits that long after an answer; 0 saturates), AB_PROCESSES (2).
 * The worker is this checkout's (npm start's), so B must read what it publishes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEV_JWT_SECRET, mintDevToken } from "@million-rps/shared/dev-token";
import { treeCpuSeconds } from "./cpu";
import { median } from "./report";
import { fetchRaw, freePort, HERE, type ServerProcess, startServer } from "./servers";
import { startWriteStream } from "./write-stream";
import { runWrk } from "./wrk";

const env = process.env;
const num = (name: string, fallback: number) => {
  const n = Number(env[name] ?? fallback);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
};
const rate = num("AB_RATE", 500);
const rounds = num("AB_ROUNDS", 4);
const seconds = num("AB_SECONDS", 8);
const paceMs = num("AB_PACE_MS", 2);
const processes = num("AB_PROCESSES", 2);
const databaseUrl = env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:55432/million_rps";
const redisUrl = env.REDIS_URL ?? "redis://127.0.0.1:56379/0";
const writeUrl = env.WRITE_URL ?? "http://127.0.0.1:8081";

const other = process.argv[2];
if (other === undefined) {
  console.error("usage: npm run bench:ab -- <another checkout> (see read-fleet/bench/fleet-ab.ts)");
  process.exit(2);
}
const repo = resolve(HERE, "..", "..");
const workDir = join(repo, ".data", "bench-ab");
mkdirSync(workDir, { recursive: true });

const ready = await fetchRaw(Number(new URL(writeUrl).port), "/healthz").catch(() => null);
if (ready?.status !== 200) {
  console.error(`the write API at ${writeUrl} is not ready: start the stack with npm start first`);
  process.exit(2);
}

async function fleet(
  name: string,
  label: string,
  checkout: string,
  prefix?: string,
): Promise<ServerProcess & { label: string; adminPort: number }> {
  const port = await freePort();
  const adminPort = await freePort();
  const server = await startServer({
    name,
    script: join(checkout, "read-fleet", "src", "main.ts"),
    port,
    env: {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      HTTP_PORT: String(port),
      ADMIN_PORT: String(adminPort),
      READ_PROCESSES: String(processes),
      LOG_LEVEL: "warn",
      ...(prefix === undefined ? {} : { CACHE_KEY_PREFIX: prefix }),
    },
    logDir: workDir,
  });
  console.log(`[ab] ${label}: ${checkout} on :${port} (log: ${server.logFile})`);
  return { ...server, label, adminPort };
}

/** How each fleet brought in its L2 entries, from its admin port's metrics. */
async function l2Reads(adminPort: number): Promise<string> {
  const text = (await fetchRaw(adminPort, "/metrics").catch(() => null))?.body.toString() ?? "";
  const found = [
    ...text.matchAll(/^read_cache_requests_total\{level="l2",result="(\w+)"\} (\d+)/gm),
  ];
  return `L2 ${found.map((m) => `${m[1]} ${m[2]}`).join(", ") || "(no metrics)"}`;
}

const fleets = [
  await fleet("fleet-a", "A", repo),
  await fleet("fleet-b", "B", resolve(other)),
  await fleet("fleet-control", "control (told of no change)", repo, "bench-ab-untold"),
];
const paths = join(workDir, "page-1.txt");
writeFileSync(paths, "/todos?limit=100\n");
const token = await mintDevToken("bench-ab", { secret: DEV_JWT_SECRET, ttlSec: 3_600 });
const writes = startWriteStream({ writeUrl, token, rate, maxInFlight: 64, tag: "ab" });
const perRead = fleets.map(() => [] as number[]);
try {
  // Warm-up, not counted: every fleet's JIT sees the hot path and the change sets first.
  for (const f of fleets) {
    await runWrk({
      url: `http://127.0.0.1:${f.port}/todos?limit=100`,
      seconds: 2,
      connections: 16,
      threads: 1,
    });
  }
  for (let round = 0; round < rounds; round++) {
    // Alternate the order, so no fleet always reads first after the last one.
    const order = round % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
    for (const i of order) {
      const f = fleets[i] as (typeof fleets)[number];
      const cpu0 = treeCpuSeconds(f.pid);
      const w = await runWrk({
        url: `http://127.0.0.1:${f.port}/`,
        seconds,
        connections: 64,
        threads: 2,
        script: join(HERE, "random-paths.lua"),
        scriptArgs: paceMs > 0 ? [paths, String(paceMs)] : [paths],
      });
      const us = ((treeCpuSeconds(f.pid) - cpu0) * 1e6) / w.requests;
      (perRead[i] as number[]).push(us);
      console.log(
        `[ab] round ${round + 1} ${f.label}: ${w.rps.toFixed(0)} req/s, p99 ${w.p99Ms.toFixed(2)} ms, ${us.toFixed(2)} µs CPU/read, errors ${w.socketErrors + w.non2xx}`,
      );
    }
  }
} finally {
  const c = await writes.stop();
  console.log(`[ab] writes: ${c.accepted} accepted of ${c.started} started, ${c.failed} failed`);
  for (const f of fleets) console.log(`[ab] ${f.label}: ${await l2Reads(f.adminPort)}`);
  for (const f of fleets) await f.stop();
}

const [a, b, control] = perRead.map(median) as [number, number, number];
console.log(
  `\n| ${rate} creates/s, page 1${paceMs > 0 ? `, paced ${paceMs} ms` : ", saturating"} | µs CPU/read (median of ${rounds}) | over the control |`,
);
console.log("| --- | ---: | ---: |");
for (const [name, us] of [
  ["A", a],
  ["B", b],
  ["control", control],
] as const) {
  console.log(`| ${name} | ${us.toFixed(2)} | ${(us - control).toFixed(2)} |`);
}
if (b - control > 0) {
  console.log(
    `\nA costs ${((100 * (a - control)) / (b - control)).toFixed(0)} % of what B costs over the control.`,
  );
}
