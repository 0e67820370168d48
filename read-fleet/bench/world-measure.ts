import { setTimeout as sleep } from "node:timers/promises";
import type { NativeStack } from "@million-rps/local";
import { boxBusySeconds, treeCpuSeconds } from "./cpu";
import {
  delta,
  type HistogramDelta,
  histogramDelta,
  type Scrape,
  scrapeOrEmpty,
  total,
} from "./prom";
import { say, settings } from "./settings";
import {
  startWriteStream,
  type UpdateTarget,
  type WriteStream,
  type WriteWindow,
  writeWindow,
} from "./write-stream";
import { runWrk, type WrkOptions, type WrkResult } from "./wrk";

export type WriteKind = "creates" | "updates";

export type Workload =
  | "page 1"
  | "random ids"
  | "random pages"
  | "page 1, paced"
  | "random ids, paced"
  | "random pages, paced"
  /** The floor under the same writes: a bare uWS server beside the stack, read like "page 1" and "page 1, paced". */
  | "bare uWS, page 1"
  | "bare uWS, page 1, paced"
  /**
   * The control under the same writes: a second fleet, the same code and processes, on
   * another key prefix, so no change set ever reaches it; read like "page 1" and "page 1, paced".
   */
  | "untold fleet, page 1"
  | "untold fleet, page 1, paced"
  | "hot hit (Lua)"
  | "busters";

/** The page-1 cases each control is read in, beside the fleet's own under the same writes. */
export type Page1Workload = "page 1" | "page 1, paced";

/** The controls read right after the fleet at each page-1 rate, and their cases' names. */
export const CONTROL_WORKLOADS = {
  "untold fleet": {
    "page 1": "untold fleet, page 1",
    "page 1, paced": "untold fleet, page 1, paced",
  },
  "bare uWS": { "page 1": "bare uWS, page 1", "page 1, paced": "bare uWS, page 1, paced" },
} as const satisfies Record<string, Record<Page1Workload, Workload>>;

/**
 * A control case (the untold fleet, the bare server): the stack fleet's /metrics
 * during it describe the stack fleet, not the server read.
 */
export function isControl(workload: Workload): boolean {
  return Object.values(CONTROL_WORKLOADS).some((w) =>
    (Object.values(w) as readonly Workload[]).includes(workload),
  );
}

/** What the read fleet and the worker did between two scrapes, from their /metrics. */
export interface StackDeltas {
  /** Postgres queries by the read fleet: read_cache_requests_total{level="postgres"} hit + not_found. */
  fleetPostgresQueries: number;
  /** Postgres queries of the worker's change publications (worker_cache_queries_total). */
  workerPostgresQueries: number;
  /** Bytes of cache entries the fleet read from Redis (read_l2_bytes_total). */
  l2Bytes: number;
  /** Change sets applied, summed over processes. */
  changeSetsApplied: number;
  /** Change sets lost beyond the log, or Redis epochs: everything held refreshed. */
  changeSetsLost: number;
  refreshes: Record<string, number>;
  l1: { hit: number; miss: number; stale: number };
  l2: { hit: number; miss: number; stale: number; error: number };
  fillLockWaits: number;
  refreshSeconds: HistogramDelta;
  changeLagSeconds: HistogramDelta;
  workerMoveSeconds: HistogramDelta;
  changesPublished: number;
  processRestarts: number;
  /** Responses the fleet sent, by code (all routes). */
  responses: Record<string, number>;
}

export interface Gauges {
  l1Pages: number;
  l1Items: number;
  refreshesPending: number;
  fillsInFlight: number;
}

export interface WorldCase {
  name: string;
  workload: Workload;
  round: number;
  /** Writes per second asked of the stream. */
  writeRate: number;
  /** creates: POST /todos; updates: PATCH of the todos the workload reads. */
  writeKind: WriteKind;
  note: string;
  wrk: Omit<WrkResult, "raw">;
  /** utime+stime of the server's process tree over the wrk run: the read fleet (supervisor and uWS processes), or the bare uWS server of its case. */
  fleetCpuSeconds: number;
  cpuUsPerRead: number;
  /** CPU of the rest of the stack over the same run (worker, write API, Kafka, Postgres, Redis, the bench's own writer), seconds. */
  othersCpuSeconds: Record<string, number>;
  /** Busy CPU of the whole machine over the run (every process, other people's included), in cores. */
  boxBusyCores: number;
  writes: WriteWindow;
  stack: StackDeltas;
  /** Gauges before the warm-up, before the measured run and after it. */
  gauges: { atStart: Gauges; before: Gauges; after: Gauges };
  readProcessPids: { before: number[]; after: number[] };
}

/** The parts of the whole native stack a measurement reads. */
export class WorldProbe {
  private warned = new Set<string>();
  constructor(readonly native: NativeStack) {}

  get fleetPid(): number {
    return this.native.stack.app("read-fleet").child.pid as number;
  }

  /** Pids whose CPU is the write path's, by part (looked up each time: a part may have restarted). */
  othersPids(): Record<string, number> {
    const out: Record<string, number> = {};
    const { stack, services } = this.native;
    for (const app of ["worker", "write-api"] as const) {
      const pid = stack.app(app).child.pid;
      if (pid !== undefined) out[app] = pid;
    }
    for (const [name, inst] of Object.entries(services.instances)) {
      const pid = inst?.pid();
      if (typeof pid === "number") out[name] = pid;
    }
    return out;
  }

  /** CPU seconds of each part so far, and of this process (the bench's write stream and client). */
  cpu(pids: Record<string, number>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids)) out[name] = treeCpuSeconds(pid);
    const own = process.cpuUsage();
    out["bench client"] = (own.user + own.system) / 1e6;
    return out;
  }

  private onError = (msg: string) => {
    if (this.warned.has(msg)) return;
    this.warned.add(msg);
    say(`!! ${msg}`);
  };

  async scrape(): Promise<{ fleet: Scrape; worker: Scrape }> {
    const { stack } = this.native;
    const [fleet, worker] = await Promise.all([
      scrapeOrEmpty(`${stack.readAdminUrl}/metrics`, this.onError),
      scrapeOrEmpty(`${stack.workerAdminUrl}/metrics`, this.onError),
    ]);
    return { fleet, worker };
  }
}

export function gauges(fleet: Scrape): Gauges {
  return {
    l1Pages: total(fleet, "read_l1_entries", { cache: "pages" }),
    l1Items: total(fleet, "read_l1_entries", { cache: "items" }),
    refreshesPending: total(fleet, "read_refreshes_pending"),
    fillsInFlight: total(fleet, "read_fills_in_flight"),
  };
}

function byLabel(before: Scrape, after: Scrape, name: string, label: string) {
  const out: Record<string, number> = {};
  for (const s of after) {
    if (s.name !== name) continue;
    const v = s.labels[label];
    if (v === undefined || v in out) continue;
    const d = delta(before, after, name, { [label]: v });
    if (d !== 0) out[v] = d;
  }
  return out;
}

export function stackDeltas(
  b: { fleet: Scrape; worker: Scrape },
  a: { fleet: Scrape; worker: Scrape },
): StackDeltas {
  const cache = (level: string, result: string) =>
    delta(b.fleet, a.fleet, "read_cache_requests_total", { level, result });
  return {
    fleetPostgresQueries: cache("postgres", "hit") + cache("postgres", "not_found"),
    workerPostgresQueries: delta(b.worker, a.worker, "worker_cache_queries_total"),
    l2Bytes: delta(b.fleet, a.fleet, "read_l2_bytes_total"),
    changeSetsApplied: delta(b.fleet, a.fleet, "read_change_sets_total", { result: "applied" }),
    changeSetsLost: delta(b.fleet, a.fleet, "read_change_sets_total", {
      result: ["lost", "epoch"],
    }),
    refreshes: byLabel(b.fleet, a.fleet, "read_refreshes_total", "result"),
    l1: { hit: cache("l1", "hit"), miss: cache("l1", "miss"), stale: cache("l1", "stale") },
    l2: {
      hit: cache("l2", "hit"),
      miss: cache("l2", "miss"),
      stale: cache("l2", "stale"),
      error: cache("l2", "error"),
    },
    fillLockWaits: delta(b.fleet, a.fleet, "read_fill_lock_waits_total"),
    refreshSeconds: histogramDelta(b.fleet, a.fleet, "read_refresh_seconds"),
    changeLagSeconds: histogramDelta(b.fleet, a.fleet, "read_change_lag_seconds"),
    workerMoveSeconds: histogramDelta(b.worker, a.worker, "worker_generation_move_seconds"),
    changesPublished: delta(b.worker, a.worker, "worker_cache_changes_published_total"),
    processRestarts: delta(b.fleet, a.fleet, "read_fleet_process_restarts_total"),
    responses: byLabel(b.fleet, a.fleet, "read_http_responses_total", "code"),
  };
}

const sub = (a: Record<string, number>, b: Record<string, number>) => {
  const out: Record<string, number> = {};
  // A Postgres backend that ended took its CPU time with it: never below 0 (a lower bound).
  for (const [k, v] of Object.entries(a)) out[k] = Math.max(0, v - (b[k] ?? 0));
  return out;
};

export interface WorldContext {
  probe: WorldProbe;
  writeUrl: string;
  token: string;
  round: number;
  readonly cases: WorldCase[];
}

/** Starts the write stream the case asks for (none at rate 0). */
export function writeStream(
  ctx: WorldContext,
  rate: number,
  tag: string,
  updates?: readonly UpdateTarget[],
): WriteStream {
  return startWriteStream({
    writeUrl: ctx.writeUrl,
    token: ctx.token,
    rate,
    maxInFlight: settings.world.maxWritesInFlight,
    tag,
    ...(updates && { updates }),
  });
}

/**
 * One case: the write stream at `writeRate` starts first, wrk warms for
 * BENCH_WARM_SECONDS (the stream reaches its steady state meanwhile), then the
 * measured run with the fleet's CPU time and /metrics taken on both sides.
 */
export async function measureWorld(
  ctx: WorldContext,
  spec: {
    workload: Workload;
    writeRate: number;
    wrk: WrkOptions;
    note?: string;
    /** PATCH these todos instead of creating new ones. */
    updates?: readonly UpdateTarget[];
    /** Whose process tree's CPU is the server's (default: the read fleet). */
    serverPid?: number;
  },
): Promise<WorldCase> {
  const { probe } = ctx;
  const writeKind: WriteKind = spec.updates === undefined ? "creates" : "updates";
  const name =
    spec.writeRate === 0
      ? `${spec.workload}, no writes`
      : `${spec.workload}, ${spec.writeRate} ${writeKind === "updates" ? "updates" : "w"}/s`;
  const atStart = gauges((await probe.scrape()).fleet);
  const stream = writeStream(ctx, spec.writeRate, `${ctx.round}-${spec.workload}`, spec.updates);
  try {
    await runWrk({ ...spec.wrk, seconds: settings.warmSeconds });
    const pidsBefore = probe.native.stack.readProcessPids();
    const before = await probe.scrape();
    const w0 = stream.counts();
    const t0 = performance.now();
    const writePids = probe.othersPids();
    const serverPid = spec.serverPid ?? probe.fleetPid;
    const cpu0 = treeCpuSeconds(serverPid);
    const path0 = probe.cpu(writePids);
    const box0 = boxBusySeconds();
    const { raw: _raw, ...r } = await runWrk(spec.wrk);
    const box1 = boxBusySeconds();
    const cpu1 = treeCpuSeconds(serverPid);
    const path1 = probe.cpu(writePids);
    const after = await probe.scrape();
    const w1 = stream.counts();
    const seconds = (performance.now() - t0) / 1000;
    const fleetCpuSeconds = cpu1 - cpu0;
    const c: WorldCase = {
      name,
      workload: spec.workload,
      round: ctx.round,
      writeRate: spec.writeRate,
      writeKind,
      note: spec.note ?? "",
      wrk: r,
      fleetCpuSeconds,
      cpuUsPerRead: (fleetCpuSeconds * 1e6) / Math.max(1, r.requests),
      othersCpuSeconds: sub(path1, path0),
      boxBusyCores: (box1 - box0) / Math.max(1e-9, r.seconds),
      writes: writeWindow(w0, w1, seconds),
      stack: stackDeltas(before, after),
      gauges: { atStart, before: gauges(before.fleet), after: gauges(after.fleet) },
      readProcessPids: { before: pidsBefore, after: probe.native.stack.readProcessPids() },
    };
    ctx.cases.push(c);
    const pg = c.stack.fleetPostgresQueries + c.stack.workerPostgresQueries;
    say(
      `${name}${ctx.round > 1 ? ` (round ${ctx.round})` : ""}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99Ms.toFixed(2)} ms, ` +
        `${c.cpuUsPerRead.toFixed(2)} µs fleet CPU/read, errors ${r.socketErrors}, non-2xx ${r.non2xx}` +
        (spec.writeRate > 0
          ? `; writes ${c.writes.acceptedPerSecond.toFixed(0)}/s accepted (skipped ${c.writes.skipped}, refused ${JSON.stringify(c.writes.refused)}, failed ${c.writes.failed}), ` +
            `Postgres ${c.stack.fleetPostgresQueries} fleet + ${c.stack.workerPostgresQueries} worker = ${(pg / Math.max(1, c.writes.accepted)).toFixed(2)}/write`
          : `; Postgres ${pg} queries`),
    );
    return c;
  } finally {
    await stream.stop();
  }
}

/** The read fleet with no reads while writes flow: what change sets alone cost it. */
export interface ChangeCost {
  writeRate: number;
  writesAcceptedPerSecond: number;
  /** utime+stime of the fleet's process tree per second of the window, ms. */
  fleetCpuMsPerSecond: number;
  /** Change sets applied per second, summed over processes. */
  changeSetsPerSecond: number;
  /** (CPU/s with writes - CPU/s with none) / change sets applied per second: ms per process per change set. */
  msPerChangeSet: number;
}

/**
 * Each rate for `seconds` with no reads at all, the idle fleet's CPU taken on both
 * sides: the difference to the no-write window over the change sets applied is the
 * CPU one process spends on one change set (receive, match, refresh, swap).
 */
export async function measureChangeCost(
  ctx: WorldContext,
  rates: readonly number[],
  seconds: number,
): Promise<ChangeCost[]> {
  const { probe } = ctx;
  const windows: Omit<ChangeCost, "msPerChangeSet">[] = [];
  for (const rate of [0, ...rates.filter((r) => r > 0)]) {
    const stream = writeStream(ctx, rate, `${ctx.round}-change-cost`);
    try {
      await sleep(1_000); // the stream reaches its steady state
      const before = await probe.scrape();
      const w0 = stream.counts();
      const cpu0 = treeCpuSeconds(probe.fleetPid);
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const cpu1 = treeCpuSeconds(probe.fleetPid);
      const elapsed = (performance.now() - t0) / 1000;
      const after = await probe.scrape();
      const applied = stackDeltas(before, after).changeSetsApplied;
      windows.push({
        writeRate: rate,
        writesAcceptedPerSecond: writeWindow(w0, stream.counts(), elapsed).acceptedPerSecond,
        fleetCpuMsPerSecond: ((cpu1 - cpu0) * 1000) / elapsed,
        changeSetsPerSecond: applied / elapsed,
      });
    } finally {
      await stream.stop();
    }
    await settle(probe);
  }
  const idle = windows[0]?.fleetCpuMsPerSecond ?? Number.NaN;
  const out = windows.map((w) => ({
    ...w,
    msPerChangeSet:
      w.writeRate === 0 || w.changeSetsPerSecond === 0
        ? Number.NaN
        : (w.fleetCpuMsPerSecond - idle) / w.changeSetsPerSecond,
  }));
  for (const c of out)
    say(
      `world: no reads, ${c.writeRate} w/s: fleet CPU ${c.fleetCpuMsPerSecond.toFixed(1)} ms/s, ` +
        `${c.changeSetsPerSecond.toFixed(1)} change sets/s applied (all processes)` +
        (c.writeRate > 0 ? `, ${c.msPerChangeSet.toFixed(2)} ms per process per change set` : ""),
    );
  return out;
}

/** Lets refreshes and the worker's backlog finish after a case, so the next starts from rest. */
export async function settle(probe: WorldProbe, timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const { fleet, worker } = await probe.scrape();
    const busy =
      total(fleet, "read_refreshes_pending") +
      total(fleet, "read_fills_in_flight") +
      total(worker, "worker_partition_lag");
    if (busy === 0 || performance.now() - t0 > timeoutMs) break;
    await sleep(100);
  }
  await sleep(300);
  return performance.now() - t0;
}
