/**
 * Reads while the world changes (quality brief; issues 13 and 19): the whole native
 * stack (private Postgres, Redis and Kafka, the worker, the write API behind the
 * local adapter, the read fleet with BENCH_READ_PROCESSES processes), seeded and
 * warm, read by wrk unpinned while a steady stream of POST /todos goes through
 * the write API; a pipelining client that checks every response, under writes and
 * from a cold start; cache busters against hot hits.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { launchNativeStack, type NativeStack, repoRoot } from "@million-rps/local";
import { DEV_JWT_SECRET, mintDevToken } from "@million-rps/shared/dev-token";
import pg from "pg";
import { treeCpuSeconds } from "./cpu";
import { type PipelineClientResult, pipelineClean, runPipelinedClient } from "./pipelined-client";
import { delta } from "./prom";
import { fetchRaw, freePort, HERE, type ServerProcess, startServer } from "./servers";
import { say, settings } from "./settings";
import { SplitCpus } from "./split-cpus";
import {
  type ChangeCost,
  CONTROL_WORKLOADS,
  type Gauges,
  gauges,
  measureChangeCost,
  measureWorld,
  type Page1Workload,
  type StackDeltas,
  settle,
  stackDeltas,
  type WorldCase,
  type WorldContext,
  WorldProbe,
  writeStream,
} from "./world-measure";
import type { UpdateTarget } from "./write-stream";
import { type WriteWindow, writeWindow } from "./write-stream";
import { runWrk, type WrkOptions } from "./wrk";

const RANDOM_PATHS = join(HERE, "random-paths.lua");
const BUSTERS = join(HERE, "busters.lua");
/** Key prefix of the control fleet: nothing the worker publishes is under it. */
const UNTOLD_PREFIX = "bench-untold";

export interface PipelinedWorldCase {
  name: string;
  note: string;
  /** Writes per second asked of the stream beside it. */
  writeRate: number;
  client: PipelineClientResult;
  writes: WriteWindow;
  fleetCpuSeconds: number;
  cpuUsPerRead: number;
  stack: StackDeltas;
  gauges: { before: Gauges; after: Gauges };
  readProcessPids: { before: number[]; after: number[] };
  /** Cold start: ms from spawning the read fleet to its first accepted connection, and to /readyz 200. */
  coldStart?: { listenMs: number | null; readyMs: number };
  clean: boolean;
}

export interface PrimeResult {
  /** L1 misses in each warming pass; the last is 0 when the workload is warm. */
  passes: number[];
  warm: boolean;
}

export interface UnexpectedExit {
  app: string;
  code: number | null;
  atSec: number;
}

export interface WorldRun {
  cases: WorldCase[];
  pipelined: PipelinedWorldCase[];
  unexpectedExits: UnexpectedExit[];
  conditions: string;
  /** Todos in the table at the start (seeded) and at the end. */
  todos: { start: number; end: number };
  paths: { byId: number; walkPages: number };
  primed: { ids: PrimeResult; pages: PrimeResult };
  /** The write stream at the highest rate with no reads: what the write path accepts on this box. */
  writeCapacity: WriteWindow | null;
  /** The warm fleet with no reads while writes flow: CPU per change set. */
  changeCost: ChangeCost[];
}

async function countTodos(databaseUrl: string): Promise<number> {
  const db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const r = await db.query<{ n: string }>("SELECT count(*) AS n FROM todos");
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await db.end();
  }
}

interface Owned {
  id: string;
  user_id: string;
}

/** 5,000 todos picked at random among the seeded ones (their `/todos/:id` paths are the workload). */
async function byIdTodos(databaseUrl: string, n: number): Promise<Owned[]> {
  const db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const r = await db.query<Owned>(
      "SELECT id::text AS id, user_id FROM todos ORDER BY random() LIMIT $1",
      [n],
    );
    return r.rows;
  } finally {
    await db.end();
  }
}

/** Pages 1..n of a walk of GET /todos?limit=100, following each page's Link: rel="next"; and the todos on them. */
async function walkPaths(port: number, n: number): Promise<{ paths: string[]; todos: Owned[] }> {
  const out: string[] = [];
  const todos: Owned[] = [];
  let path: string | null = settings.path;
  while (path !== null && out.length < n) {
    const res = await fetchRaw(port, path);
    if (res.status !== 200) throw new Error(`the walk met ${res.status} at ${path}`);
    out.push(path);
    todos.push(...(JSON.parse(res.body.toString()) as Owned[]));
    const link = String(res.headers.link ?? "");
    const m = /<([^>]+)>;\s*rel="next"/.exec(link);
    path = m === null ? null : (m[1] as string).replace(/^https?:\/\/[^/]+/, "");
  }
  return { paths: out, todos };
}

/** Update targets with their owners' dev tokens (only the owner may update). */
async function ownedTargets(todos: readonly Owned[]): Promise<UpdateTarget[]> {
  const tokens = new Map<string, string>();
  const out: UpdateTarget[] = [];
  for (const t of todos) {
    let token = tokens.get(t.user_id);
    if (token === undefined) {
      token = await mintDevToken(t.user_id, { secret: DEV_JWT_SECRET, ttlSec: 24 * 3600 });
      tokens.set(t.user_id, token);
    }
    out.push({ id: t.id, token });
  }
  return out;
}

export async function runWorldCases(workDir: string): Promise<WorldRun> {
  const w = settings.world;
  const area = `bench-read-${process.pid}`;
  const unexpectedExits: UnexpectedExit[] = [];
  const t0 = Date.now();
  let stopping = false;
  say(
    `world: starting the whole native stack (Postgres, Redis, Kafka, worker, write API, read fleet x${w.readProcesses})`,
  );
  const native: NativeStack = await launchNativeStack({
    area,
    seed: settings.todos,
    partitions: w.partitions,
    readProcesses: w.readProcesses,
    jwtSecret: DEV_JWT_SECRET,
    onProgress: (m) => say(`stack: ${m}`),
    onUnexpectedExit: (app, code) => {
      if (stopping) return;
      unexpectedExits.push({ app, code, atSec: Math.round((Date.now() - t0) / 1000) });
      say(`!! ${app} exited unexpectedly (code ${code})`);
    },
  });
  const split = w.split ? new SplitCpus(native.root, settings.wrkCpu, settings.serverCpu) : null;
  try {
    return await runOn(native, workDir, unexpectedExits, split);
  } finally {
    stopping = true;
    split?.stop();
    await native.stop();
    rmSync(join(repoRoot, ".data", area), { recursive: true, force: true });
  }
}

async function runOn(
  native: NativeStack,
  workDir: string,
  unexpectedExits: UnexpectedExit[],
  split: SplitCpus | null,
): Promise<WorldRun> {
  const w = settings.world;
  const { stack } = native;
  const port = Number(new URL(stack.readUrl).port);
  const probe = new WorldProbe(native);
  if (split !== null)
    say(
      `world: split: the read fleet, its controls and wrk on CPU ${split.readCpu}; Postgres, Redis, Kafka, the worker, the write adapter and this bench on CPU ${split.writeCpu}`,
    );
  const ctx: WorldContext = {
    probe,
    writeUrl: stack.writeUrl,
    token: await mintDevToken("bench-writer", { secret: DEV_JWT_SECRET, ttlSec: 24 * 3600 }),
    round: 1,
    cases: [],
  };
  const todosAtStart = await countTodos(native.databaseUrl);

  // One write, checked end to end, so a broken write path is a clear error and not a column of zeros.
  const probeWrite = writeStream(ctx, 50, "probe");
  await sleep(400);
  const probed = await probeWrite.stop();
  if (probed.accepted === 0)
    throw new Error(`the write API accepted no write: ${JSON.stringify(probed)}`);

  // What the write path accepts with no reads at all: the ceiling of the rates asked below, on this box.
  const capacityRate = Math.max(0, ...w.writeRates);
  let writeCapacity: WriteWindow | null = null;
  if (capacityRate > 0) {
    const stream = writeStream(ctx, capacityRate, "capacity");
    await sleep(1_000);
    const c0 = stream.counts();
    const t0 = performance.now();
    await sleep(4_000);
    writeCapacity = writeWindow(c0, stream.counts(), (performance.now() - t0) / 1000);
    await stream.stop();
    say(
      `world: the write path alone (no reads): ${writeCapacity.acceptedPerSecond.toFixed(0)} writes/s accepted of ${capacityRate} asked, ` +
        `mean latency ${writeCapacity.meanLatencyMs.toFixed(1)} ms, ${writeCapacity.skipped} skipped at the in-flight bound`,
    );
    await settle(probe);
  }

  const idTodos = await byIdTodos(native.databaseUrl, w.byIdIds);
  const ids = idTodos.map((t) => `/todos/${t.id}`);
  const walked = await walkPaths(port, w.walkPages);
  const walk = walked.paths;
  const idTargets = await ownedTargets(idTodos);
  const walkTargets = await ownedTargets(walked.todos);
  const idsFile = join(workDir, "by-id-paths.txt");
  const walkFile = join(workDir, "walk-paths.txt");
  writeFileSync(idsFile, `${ids.join("\n")}\n`);
  writeFileSync(walkFile, `${walk.join("\n")}\n`);
  const page1File = join(workDir, "page-1-path.txt");
  writeFileSync(page1File, `${settings.path}\n`);
  say(`world: ${ids.length} ids and ${walk.length} pages of a walk for the random workloads`);

  const wrk = (extra: Partial<WrkOptions> = {}): WrkOptions => ({
    url: `${stack.readUrl}${settings.path}`,
    seconds: settings.seconds,
    connections: settings.connections,
    threads: w.wrkThreads,
    ...(split !== null && { cpus: split.readCpu }),
    ...extra,
  });
  // Warm means warm: every id and every page of the walk in every process's L1 before a figure is taken.
  const idsWrk = wrk({ script: RANDOM_PATHS, scriptArgs: [idsFile] });
  const walkWrk = wrk({ script: RANDOM_PATHS, scriptArgs: [walkFile] });
  const primed = {
    ids: await prime(probe, "random ids", idsWrk),
    pages: await prime(probe, "random pages", walkWrk),
  };
  const page1Rates = [0, ...w.writeRates];
  const workloadRates = [0, ...w.workloadRates];
  // Everything warm and no reads: what change sets alone cost the fleet.
  const changeCost = await measureChangeCost(ctx, w.writeRates, settings.seconds);
  // Two controls under the same writes. The same fleet on another key prefix: no change
  // set reaches it, so what a write rate does to it is what the write path's share of the
  // CPUs does to this code, and the fleet's difference from it is what change sets cost.
  // A bare uWS server with as many processes, serving page 1's bytes: the floor of any
  // server on this box under these writes.
  const bare = await startBareBeside(port, workDir, split?.readCpu);
  const untold = await startUntoldFleet(native, workDir, split?.readCpu).catch(
    async (err: unknown) => {
      await bare.stop();
      throw err;
    },
  );
  const controls = [
    {
      server: untold,
      workloads: CONTROL_WORKLOADS["untold fleet"],
      note: `the same read fleet (${w.readProcesses} processes) on another key prefix, so no change set reaches it, under the same write stream`,
    },
    {
      server: bare,
      workloads: CONTROL_WORKLOADS["bare uWS"],
      note: `a bare uWS server (${w.readProcesses} processes, page 1's bytes) beside the stack, under the same write stream`,
    },
  ] as const;
  /**
   * One page-1 case on the fleet, then the same on each control at the same rate, back to
   * back: the fleet not told of changes (what change sets cost the read path is the
   * difference) and the bare server (the floor of any server under these writes).
   */
  async function fleetThenControls(
    workload: Page1Workload,
    rate: number,
    fleetWrk: WrkOptions,
    note?: string,
  ): Promise<void> {
    await measureWorld(ctx, { workload, writeRate: rate, wrk: fleetWrk, ...(note && { note }) });
    await settle(probe);
    for (const control of controls) {
      const url = new URL(fleetWrk.url);
      url.port = String(control.server.port);
      await measureWorld(ctx, {
        workload: control.workloads[workload],
        writeRate: rate,
        wrk: { ...fleetWrk, url: url.toString() },
        note: note === undefined ? control.note : `${note}; ${control.note}`,
        serverPid: control.server.pid,
      });
      await settle(probe);
    }
  }
  try {
    await runRounds();
  } finally {
    await Promise.all([bare.stop(), untold.stop()]);
  }
  async function runRounds(): Promise<void> {
    for (let round = 1; round <= w.rounds; round++) {
      ctx.round = round;
      // Alternate the order so a drift over the run (the table grows) does not favour one rate.
      const order = (rates: number[]) => (round % 2 === 1 ? rates : [...rates].reverse());
      for (const rate of order(page1Rates)) await fleetThenControls("page 1", rate, wrk());
      const random = [
        {
          workload: "random ids",
          wrk: idsWrk,
          note: `GET /todos/:id, ${ids.length} ids at random`,
        },
        {
          workload: "random pages",
          wrk: walkWrk,
          note: `pages 1-${walk.length} of a walk at random`,
        },
      ] as const;
      for (const c of random) {
        for (const rate of order(workloadRates)) {
          await measureWorld(ctx, { ...c, writeRate: rate });
          await settle(probe);
        }
      }
      // The same reads offered below saturation (each connection pauses between requests):
      // p99 then measures how long an answer takes, not the queue a saturating wrk builds
      // behind whatever else the two cores run.
      if (w.pacedDelayMs > 0) {
        const delay = String(w.pacedDelayMs);
        const paced = `each connection waits ${delay} ms after an answer`;
        const pacedWrk = (paths: string) =>
          wrk({ script: RANDOM_PATHS, scriptArgs: [paths, delay] });
        for (const rate of order(page1Rates))
          await fleetThenControls("page 1, paced", rate, pacedWrk(page1File), paced);
        const cases = [
          {
            workload: "random ids, paced",
            paths: idsFile,
            note: `${paced}; ${ids.length} ids at random`,
          },
          {
            workload: "random pages, paced",
            paths: walkFile,
            note: `${paced}; pages 1-${walk.length} of a walk at random`,
          },
        ] as const;
        for (const c of cases) {
          for (const rate of order(workloadRates)) {
            await measureWorld(ctx, {
              workload: c.workload,
              writeRate: rate,
              wrk: pacedWrk(c.paths),
              note: c.note,
            });
            await settle(probe);
          }
        }
      }
      // Beyond the creates: updates of exactly the todos being read, so items and cursor pages change.
      const updated = [
        {
          workload: "random ids",
          wrk: idsWrk,
          updates: idTargets,
          note: `PATCH of random ones of the ${ids.length} todos read (each changes its item)`,
        },
        {
          workload: "random pages",
          wrk: walkWrk,
          updates: walkTargets,
          note: `PATCH of random todos on the ${walk.length} pages read (each changes its page)`,
        },
      ] as const;
      for (const rate of w.updateRates) {
        for (const c of updated) {
          await measureWorld(ctx, { ...c, writeRate: rate });
          await settle(probe);
        }
      }
    }
  }

  ctx.round = 1;
  await measureWorld(ctx, {
    workload: "hot hit (Lua)",
    writeRate: 0,
    wrk: wrk({ script: BUSTERS, scriptArgs: ["plain"] }),
    note: "the buster script sending the plain path (the same wrk cost per request)",
  });
  await measureWorld(ctx, {
    workload: "busters",
    writeRate: 0,
    wrk: wrk({ script: BUSTERS, scriptArgs: ["busters"] }),
    note: "GET /todos?limit=100&_=<counter>",
  });
  await settle(probe);

  const pipelined: PipelinedWorldCase[] = [];
  pipelined.push(await pipelinedUnderWrites(ctx, port));
  await settle(probe);
  pipelined.push(await pipelinedFromColdStart(ctx, native, port));

  const todosAtEnd = await countTodos(native.databaseUrl);
  const conditions =
    `Whole native stack on this machine: private Postgres, Redis and Kafka (KRaft, ${w.partitions} partitions), ` +
    `the worker, the write API behind the local adapter and the read fleet with ${w.readProcesses} processes, ` +
    (split === null
      ? "nothing pinned (everything, wrk and the bench's own write stream share the CPUs); "
      : `split: the read fleet, its controls and wrk pinned to CPU ${split.readCpu}; Postgres, Redis, Kafka, the worker, ` +
        `the write adapter and the bench (its write stream and the pipelining client) to CPU ${split.writeCpu}, as on AWS, ` +
        "where the write path never runs on a reader's cores (a process the stack starts later is pinned within 200 ms); ") +
    `${todosAtStart.toLocaleString("en-US")} todos at start, ${todosAtEnd.toLocaleString("en-US")} at the end; ` +
    `wrk -t${w.wrkThreads} -c${settings.connections}, ${settings.warmSeconds} s of warm-up (writes already flowing) then ${settings.seconds} s measured, ` +
    `${w.rounds} alternating round(s) of the rate cases, medians shown; writes: POST /todos through the write API with a dev JWT, ` +
    `open loop at the rate asked, at most ${w.maxWritesInFlight} in flight (beyond that, skipped and counted). ` +
    `A create is the newest todo: it changes page 1 and no cached item or cursor page, so under creates the ` +
    `random-id and random-page figures measure what the write path and page-1 refreshes cost the box; the "updates/s" ` +
    `rows PATCH the very todos being read (each changes an item or a page the workload holds). ` +
    `Fleet CPU per read: utime+stime of the read fleet's process tree over the measured run / requests wrk completed.`;
  return {
    cases: ctx.cases,
    pipelined,
    unexpectedExits,
    conditions,
    todos: { start: todosAtStart, end: todosAtEnd },
    paths: { byId: ids.length, walkPages: walk.length },
    primed,
    writeCapacity,
    changeCost,
  };
}

/**
 * A second read fleet, the same code and process count as the stack's, on the stack's
 * Postgres and Redis under another key prefix: it fills its own L2 entries once and no
 * change set (nor the worker's page refresh) ever reaches it.
 */
async function startUntoldFleet(
  native: NativeStack,
  workDir: string,
  cpus: string | undefined,
): Promise<ServerProcess> {
  const port = await freePort();
  const server = await startServer({
    name: "untold-read-fleet",
    ...(cpus !== undefined && { cpus }),
    script: join(repoRoot, "read-fleet", "src", "main.ts"),
    port,
    env: {
      DATABASE_URL: native.databaseUrl,
      REDIS_URL: native.redisUrl,
      CACHE_KEY_PREFIX: UNTOLD_PREFIX,
      HTTP_PORT: String(port),
      ADMIN_PORT: String(await freePort()),
      READ_PROCESSES: String(settings.world.readProcesses),
      LOG_LEVEL: "warn",
    },
    logDir: workDir,
  });
  say(
    `world: a second read fleet (${settings.world.readProcesses} processes, key prefix "${UNTOLD_PREFIX}") on :${server.port}, told of no change`,
  );
  return server;
}

/** The bare uWS server of the paced floor case, on a free port, serving page 1 as the fleet answers it now. */
async function startBareBeside(
  fleetPort: number,
  workDir: string,
  cpus: string | undefined,
): Promise<ServerProcess> {
  const page1 = await fetchRaw(fleetPort, settings.path);
  if (page1.status !== 200) throw new Error(`page 1 answered ${page1.status}`);
  const bodyFile = join(workDir, "page-1-body.json");
  writeFileSync(bodyFile, page1.body);
  const server = await startServer({
    name: "bare-uws-beside-the-stack",
    ...(cpus !== undefined && { cpus }),
    script: join(HERE, "bare-uws.ts"),
    port: await freePort(),
    env: { BODY_FILE: bodyFile, PROCESSES: String(settings.world.readProcesses) },
    logDir: workDir,
  });
  say(
    `world: a bare uWS server (${settings.world.readProcesses} processes) on :${server.port}, for the floor under the same writes`,
  );
  return server;
}

/**
 * Runs a workload in short passes until a pass meets no L1 miss in any process
 * (each process has its own L1, and SO_REUSEPORT spreads connections between them).
 */
async function prime(probe: WorldProbe, label: string, o: WrkOptions): Promise<PrimeResult> {
  const passes: number[] = [];
  for (let pass = 1; pass <= 10; pass++) {
    const before = await probe.scrape();
    await runWrk({ ...o, seconds: 2 });
    const after = await probe.scrape();
    const misses = delta(before.fleet, after.fleet, "read_cache_requests_total", {
      level: "l1",
      result: "miss",
    });
    passes.push(misses);
    if (misses === 0) break;
  }
  const warm = passes.at(-1) === 0;
  say(
    `world: warming ${label}: L1 misses per 2 s pass ${passes.join(", ")}${warm ? "" : " (still missing: the figures below include cold fills)"}`,
  );
  return { passes, warm };
}

/** The pipelining client against the warm fleet while writes flow. */
async function pipelinedUnderWrites(ctx: WorldContext, port: number): Promise<PipelinedWorldCase> {
  const w = settings.world;
  const { probe } = ctx;
  const stream = writeStream(ctx, w.pipelineWrites, "pipelined");
  try {
    await sleep(1_000); // the stream is flowing before the client starts
    const before = await probe.scrape();
    const pids = probe.native.stack.readProcessPids();
    const w0 = stream.counts();
    const t0 = performance.now();
    const fleetPid = probe.fleetPid;
    const cpu0 = treeCpuSeconds(fleetPid);
    const client = await runPipelinedClient({
      host: "127.0.0.1",
      port,
      path: settings.path,
      connections: w.pipelineConnections,
      depth: settings.pipelineDepth,
      seconds: settings.pipelineSeconds,
      expectJsonArray: true,
    });
    const cpu = treeCpuSeconds(fleetPid) - cpu0;
    const after = await probe.scrape();
    const c = pipelinedCase({
      name: `pipelined x${settings.pipelineDepth}, ${w.pipelineWrites} w/s`,
      note: `${w.pipelineConnections} connections x ${settings.pipelineDepth} in flight, ${settings.pipelineSeconds} s, warm fleet`,
      writeRate: w.pipelineWrites,
      client,
      writes: writeWindow(w0, stream.counts(), (performance.now() - t0) / 1000),
      cpu,
      before,
      after,
      pids: { before: pids, after: probe.native.stack.readProcessPids() },
    });
    return c;
  } finally {
    await stream.stop();
  }
}

/**
 * Restarts the read fleet and connects the moment it listens: the pipelining
 * client retries refused connections every 2 ms, and its window starts at the first
 * one that is accepted. Writes keep flowing throughout.
 */
async function pipelinedFromColdStart(
  ctx: WorldContext,
  native: NativeStack,
  port: number,
): Promise<PipelinedWorldCase> {
  const w = settings.world;
  const { probe } = ctx;
  const stream = writeStream(ctx, w.pipelineWrites, "cold");
  try {
    await sleep(1_000);
    say("world: restarting the read fleet for the cold start");
    await native.stack.kill("read-fleet", "SIGTERM");
    const w0 = stream.counts();
    const t0 = performance.now();
    const starting = native.stack.start("read-fleet").then(() => performance.now() - t0);
    // The start may fail; keep the rejection for after the client, never unhandled.
    starting.catch(() => {});
    const client = await runPipelinedClient({
      host: "127.0.0.1",
      port,
      path: settings.path,
      connections: w.pipelineConnections,
      depth: settings.pipelineDepth,
      seconds: w.coldSeconds,
      waitForListen: { timeoutMs: 90_000 },
      expectJsonArray: true,
    });
    const readyMs = await starting;
    // The fleet's counters start at zero with the new processes: the "before" is empty.
    const after = await probe.scrape();
    const fleetPid = probe.fleetPid;
    const cpu = treeCpuSeconds(fleetPid);
    return pipelinedCase({
      name: `pipelined x${settings.pipelineDepth}, cold start`,
      note:
        `read fleet restarted, ${w.pipelineConnections} connections from the moment it listens, ${w.coldSeconds} s, ` +
        `${w.pipelineWrites} w/s; CPU per read counts the fleet's whole life (start-up included)`,
      writeRate: w.pipelineWrites,
      client,
      writes: writeWindow(w0, stream.counts(), (performance.now() - t0) / 1000),
      cpu,
      before: { fleet: [], worker: [] },
      after,
      pids: { before: [], after: probe.native.stack.readProcessPids() },
      coldStart: { listenMs: client.firstConnectMs, readyMs: Math.round(readyMs) },
    });
  } finally {
    await stream.stop();
  }
}

function pipelinedCase(o: {
  name: string;
  note: string;
  writeRate: number;
  client: PipelineClientResult;
  writes: WriteWindow;
  cpu: number;
  before: Awaited<ReturnType<WorldProbe["scrape"]>>;
  after: Awaited<ReturnType<WorldProbe["scrape"]>>;
  pids: { before: number[]; after: number[] };
  coldStart?: { listenMs: number | null; readyMs: number };
}): PipelinedWorldCase {
  const samePids = o.pids.before.length === 0 || o.pids.before.join() === o.pids.after.join();
  const c: PipelinedWorldCase = {
    name: o.name,
    note: o.note,
    writeRate: o.writeRate,
    client: o.client,
    writes: o.writes,
    fleetCpuSeconds: o.cpu,
    cpuUsPerRead: (o.cpu * 1e6) / Math.max(1, o.client.answered),
    stack: stackDeltas(o.before, o.after),
    gauges: { before: gauges(o.before.fleet), after: gauges(o.after.fleet) },
    readProcessPids: o.pids,
    ...(o.coldStart && { coldStart: o.coldStart }),
    clean: pipelineClean(o.client) && samePids,
  };
  const r = o.client;
  say(
    `${o.name}: ${r.answered} answered (${r.rps.toFixed(0)}/s), p99 ${r.p99Ms.toFixed(2)} ms, non-200 ${JSON.stringify(r.non200)}, ` +
      `closed by the server ${r.closedByServer}, unanswered ${r.unanswered} (+${r.unansweredAtEnd} at the end), ` +
      `framing errors ${r.framingErrors}, writes ${o.writes.acceptedPerSecond.toFixed(1)}/s` +
      (o.coldStart
        ? `; listened after ${o.coldStart.listenMs} ms, ready after ${o.coldStart.readyMs} ms`
        : "") +
      `: ${c.clean ? "clean" : "NOT CLEAN"}`,
  );
  for (const a of r.anomalies.slice(0, 5)) say(`  at ${a.atMs} ms: ${a.kind}: ${a.detail}`);
  return c;
}
