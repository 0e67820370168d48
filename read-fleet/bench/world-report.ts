import { settings } from "./settings";
import type { PipelinedWorldCase, WorldRun } from "./world-cases";
import {
  type ChangeCost,
  CONTROL_WORKLOADS,
  isControl,
  type Workload,
  type WorldCase,
  type WriteKind,
} from "./world-measure";

/** One rate case over its rounds: medians of rates, latencies and CPU; sums of counts. */
export interface WorldSummary {
  name: string;
  workload: Workload;
  writeRate: number;
  writeKind: WriteKind;
  rounds: number;
  note: string;
  rps: number;
  p99Ms: number;
  p50Ms: number;
  socketErrors: number;
  non2xx: number;
  cpuUsPerRead: number;
  /** CPU the rest of the box used meanwhile (worker, write API, Kafka, Postgres, Redis, the bench's writer), in cores. */
  othersCores: number;
  boxBusyCores: number;
  writesAcceptedPerSecond: number;
  writesRefused: number;
  writesFailed: number;
  writesSkipped: number;
  writeLatencyMs: number;
  /** (fleet + worker) Postgres queries over writes accepted, pooled over rounds. */
  fleetPostgresPerWrite: number;
  workerPostgresPerWrite: number;
  postgresQueries: { fleet: number; worker: number };
  /** Bytes of cache entries read from Redis per process per change set applied, pooled over rounds. */
  l2BytesPerChangeSet: number;
  changeSetsPerSecondPerProcess: number;
  l2BytesPerSecond: number;
  refreshP50Ms: number;
  refreshP99Ms: number;
  refreshMeanMs: number;
  changeLagP50Ms: number;
  changeLagP99Ms: number;
  changeLagMeanMs: number;
  moveMeanMs: number;
  /** Change publications by the worker per second, and hot pages it read from Postgres per publication. */
  publicationsPerSecond: number;
  hotPagesPerPublication: number;
  l1Misses: number;
  l1Pages: { atStart: number; after: number };
}

function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1
    ? (v[mid] as number)
    : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

const sum = (runs: readonly WorldCase[], f: (c: WorldCase) => number) =>
  runs.reduce((n, c) => n + f(c), 0);

export function summarizeWorld(cases: readonly WorldCase[]): WorldSummary[] {
  const names = [...new Set(cases.map((c) => c.name))];
  return names.map((name) => {
    const runs = cases.filter((c) => c.name === name);
    const first = runs[0] as WorldCase;
    const m = (f: (c: WorldCase) => number) => median(runs.map(f));
    const accepted = sum(runs, (c) => c.writes.accepted);
    const fleetPg = sum(runs, (c) => c.stack.fleetPostgresQueries);
    const workerPg = sum(runs, (c) => c.stack.workerPostgresQueries);
    const applied = sum(runs, (c) => c.stack.changeSetsApplied);
    const l2 = sum(runs, (c) => c.stack.l2Bytes);
    const seconds = sum(runs, (c) => c.writes.seconds);
    const ms = (x: number) => x * 1000;
    return {
      name,
      workload: first.workload,
      writeRate: first.writeRate,
      writeKind: first.writeKind,
      rounds: runs.length,
      note: first.note,
      rps: m((c) => c.wrk.rps),
      p99Ms: m((c) => c.wrk.p99Ms),
      p50Ms: m((c) => c.wrk.p50Ms),
      socketErrors: sum(runs, (c) => c.wrk.socketErrors),
      non2xx: sum(runs, (c) => c.wrk.non2xx),
      cpuUsPerRead: m((c) => c.cpuUsPerRead),
      othersCores: m(
        (c) =>
          Object.values(c.othersCpuSeconds).reduce((a, b) => a + b, 0) /
          Math.max(1e-9, c.wrk.seconds),
      ),
      boxBusyCores: m((c) => c.boxBusyCores),
      writesAcceptedPerSecond: m((c) => c.writes.acceptedPerSecond),
      writesRefused: sum(runs, (c) => Object.values(c.writes.refused).reduce((a, b) => a + b, 0)),
      writesFailed: sum(runs, (c) => c.writes.failed),
      writesSkipped: sum(runs, (c) => c.writes.skipped),
      writeLatencyMs: m((c) => c.writes.meanLatencyMs),
      fleetPostgresPerWrite: accepted > 0 ? fleetPg / accepted : Number.NaN,
      workerPostgresPerWrite: accepted > 0 ? workerPg / accepted : Number.NaN,
      postgresQueries: { fleet: fleetPg, worker: workerPg },
      l2BytesPerChangeSet: applied > 0 ? l2 / applied : Number.NaN,
      changeSetsPerSecondPerProcess:
        applied / Math.max(1e-9, seconds) / settings.world.readProcesses,
      l2BytesPerSecond: l2 / Math.max(1e-9, seconds),
      refreshP50Ms: ms(m((c) => c.stack.refreshSeconds.p50)),
      refreshP99Ms: ms(m((c) => c.stack.refreshSeconds.p99)),
      refreshMeanMs: ms(m((c) => c.stack.refreshSeconds.mean)),
      changeLagP50Ms: ms(m((c) => c.stack.changeLagSeconds.p50)),
      changeLagP99Ms: ms(m((c) => c.stack.changeLagSeconds.p99)),
      changeLagMeanMs: ms(m((c) => c.stack.changeLagSeconds.mean)),
      moveMeanMs: ms(m((c) => c.stack.workerMoveSeconds.mean)),
      publicationsPerSecond:
        sum(runs, (c) => c.stack.workerMoveSeconds.count) / Math.max(1e-9, seconds),
      hotPagesPerPublication:
        workerPg /
        Math.max(
          1,
          sum(runs, (c) => c.stack.workerMoveSeconds.count),
        ),
      l1Misses: sum(runs, (c) => c.stack.l1.miss),
      l1Pages: {
        atStart: first.gauges.atStart.l1Pages,
        after: (runs.at(-1) as WorldCase).gauges.after.l1Pages,
      },
    };
  });
}

export interface WorldComparison {
  name: string;
  /** What is compared, e.g. "9.1 vs 9.0 µs". */
  figures: string;
  value: number;
  target: string;
  met: boolean;
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "-";

/**
 * `f(numerator) / f(denominator)` of two cases, as the median over rounds of each
 * round's own ratio: the two ran minutes apart within a round, while a round's cases
 * and the next round's are up to half an hour apart on a table that keeps growing.
 * Without a round holding both (or without the cases), the ratio of their medians.
 */
function pairedRatio(
  cases: readonly WorldCase[],
  numerator: WorldSummary,
  denominator: WorldSummary,
  f: (c: WorldCase) => number,
  median_: (c: WorldSummary) => number,
): number {
  const rounds = [...new Set(cases.map((c) => c.round))];
  const ratios: number[] = [];
  for (const round of rounds) {
    const num = cases.find((c) => c.name === numerator.name && c.round === round);
    const den = cases.find((c) => c.name === denominator.name && c.round === round);
    if (num !== undefined && den !== undefined) ratios.push(f(num) / f(den));
  }
  return ratios.length > 0 ? median(ratios) : median_(numerator) / median_(denominator);
}

/**
 * The "reads while the world changes" targets: each ratio the median over rounds of
 * the ratio within a round (pairedRatio), the figures beside it medians over rounds.
 */
export function worldComparisons(
  summary: readonly WorldSummary[],
  pipelined: readonly PipelinedWorldCase[],
  cases: readonly WorldCase[] = [],
): WorldComparison[] {
  const out: WorldComparison[] = [];
  const cpu = (a: WorldSummary, b: WorldSummary) =>
    pairedRatio(
      cases,
      a,
      b,
      (c) => c.cpuUsPerRead,
      (x) => x.cpuUsPerRead,
    );
  const p99 = (a: WorldSummary, b: WorldSummary) =>
    pairedRatio(
      cases,
      a,
      b,
      (c) => c.wrk.p99Ms,
      (x) => x.p99Ms,
    );
  const find = (workload: Workload, rate: number) =>
    summary.find(
      (s) => s.workload === workload && s.writeRate === rate && s.writeKind === "creates",
    );
  const page0 = find("page 1", 0);
  const untoldPage1 = CONTROL_WORKLOADS["untold fleet"]["page 1"];
  const untold0 = find(untoldPage1, 0);
  if (page0 !== undefined) {
    for (const s of summary.filter(
      (x) => x.workload === "page 1" && x.writeRate > 0 && x.writeKind === "creates",
    )) {
      const target = s.writeRate > 500 ? 0.9 : 0.95;
      const ratio = cpu(page0, s);
      out.push({
        name: `${s.name}: CPU per read, no writes / with`,
        figures: `${fmt(page0.cpuUsPerRead, 2)} / ${fmt(s.cpuUsPerRead, 2)} µs`,
        value: ratio,
        target: `>= ${target}`,
        met: ratio >= target,
      });
      // The same ratio over the untold fleet's under the same writes: what change sets
      // cost the read path, without what sharing the CPUs with the write path costs any code.
      const untold = find(untoldPage1, s.writeRate);
      if (untold0 !== undefined && untold !== undefined) {
        const control = cpu(untold0, untold);
        out.push({
          name: `${s.name}: CPU per read, no writes / with, over the untold fleet's`,
          figures: `${fmt(ratio, 2)} / ${fmt(control, 2)}`,
          value: ratio / control,
          target: `>= ${target} (proposed reading)`,
          met: ratio / control >= target,
        });
      }
      const tail = p99(s, page0);
      out.push({
        name: `${s.name}: p99 / no writes`,
        figures: `${fmt(s.p99Ms, 2)} / ${fmt(page0.p99Ms, 2)} ms`,
        value: tail,
        target: "<= 1.5",
        met: tail <= 1.5,
      });
    }
  }
  // Paced: the same p99 bars, measured below saturation.
  for (const [workload, bound] of [
    ["page 1, paced", 1.5],
    ["random ids, paced", 2],
    ["random pages, paced", 2],
  ] as const) {
    const none = find(workload, 0);
    if (none === undefined) continue;
    for (const s of summary.filter(
      (x) => x.workload === workload && x.writeRate > 0 && x.writeKind === "creates",
    )) {
      const tail = p99(s, none);
      out.push({
        name: `${s.name}: p99 / no writes`,
        figures: `${fmt(s.p99Ms, 2)} / ${fmt(none.p99Ms, 2)} ms (${fmt(s.rps, 0)} / ${fmt(none.rps, 0)} req/s)`,
        value: tail,
        target: `<= ${bound}`,
        met: tail <= bound,
      });
    }
  }
  for (const workload of ["random ids", "random pages"] as const) {
    const none = find(workload, 0);
    if (none === undefined) continue;
    for (const s of summary.filter((x) => x.workload === workload && x.writeRate > 0)) {
      const perRead = cpu(s, none);
      out.push({
        name: `${s.name}: CPU per read / no writes`,
        figures: `${fmt(s.cpuUsPerRead, 2)} / ${fmt(none.cpuUsPerRead, 2)} µs`,
        value: perRead,
        target: "<= 1.3",
        met: perRead <= 1.3,
      });
      const tail = p99(s, none);
      out.push({
        name: `${s.name}: p99 / no writes`,
        figures: `${fmt(s.p99Ms, 2)} / ${fmt(none.p99Ms, 2)} ms`,
        value: tail,
        target: "<= 2",
        met: tail <= 2,
      });
    }
  }
  const hit = find("hot hit (Lua)", 0);
  const busters = find("busters", 0);
  if (hit !== undefined && busters !== undefined) {
    const ratio = cpu(busters, hit);
    out.push({
      name: "busters: CPU per request / hot hit",
      figures: `${fmt(busters.cpuUsPerRead, 2)} / ${fmt(hit.cpuUsPerRead, 2)} µs`,
      value: ratio,
      target: "<= 1.5",
      met: ratio <= 1.5,
    });
    const grew = busters.l1Pages.after - busters.l1Pages.atStart;
    out.push({
      name: "busters: L1 page entries (all processes), after - before",
      figures: `${busters.l1Pages.atStart} -> ${busters.l1Pages.after}`,
      value: grew,
      target: "<= 0",
      met: grew <= 0,
    });
  }
  for (const p of pipelined) {
    out.push({
      name: `${p.name}: closed by the server + unanswered`,
      figures: `${p.client.closedByServer} closed, ${p.client.unanswered + p.client.unansweredAtEnd} unanswered, ${p.client.framingErrors} framing, non-200 ${JSON.stringify(p.client.non200)}`,
      value: p.client.closedByServer + p.client.unanswered + p.client.unansweredAtEnd,
      target: "0 and 0",
      met: p.clean,
    });
  }
  return out;
}

export function worldCaseRows(summary: readonly WorldSummary[]): string[][] {
  const base = new Map<Workload, WorldSummary>();
  for (const s of summary) if (s.writeRate === 0) base.set(s.workload, s);
  return [
    [
      "world case",
      "writes/s asked",
      "writes/s accepted",
      "req/s",
      "p50 ms",
      "p99 ms",
      "errors",
      "non-2xx",
      "fleet CPU µs/read",
      "x no-write",
      "rest of stack, cores",
      "box busy, cores",
      "PG/write fleet+worker",
      "note",
    ],
    ...summary.map((s) => {
      const ref = base.get(s.workload);
      const refused = s.writesRefused + s.writesFailed + s.writesSkipped;
      return [
        s.name,
        fmt(s.writeRate),
        s.writeRate === 0 ? "-" : fmt(s.writesAcceptedPerSecond),
        fmt(s.rps),
        fmt(s.p50Ms, 2),
        fmt(s.p99Ms, 2),
        String(s.socketErrors),
        String(s.non2xx),
        fmt(s.cpuUsPerRead, 2),
        ref === undefined || s.writeRate === 0 ? "-" : fmt(s.cpuUsPerRead / ref.cpuUsPerRead, 2),
        fmt(s.othersCores, 2),
        fmt(s.boxBusyCores, 2),
        s.writeRate === 0
          ? `(${s.postgresQueries.fleet} fleet queries)`
          : `${fmt(s.fleetPostgresPerWrite, 2)}+${fmt(s.workerPostgresPerWrite, 2)}`,
        [
          s.note,
          refused > 0
            ? `writes not accepted: ${s.writesRefused} refused, ${s.writesFailed} failed, ${s.writesSkipped} skipped`
            : "",
          s.rounds > 1 ? `median of ${s.rounds}` : "",
        ]
          .filter((x) => x !== "")
          .join("; "),
      ];
    }),
  ];
}

/**
 * Case 5: what a change costs each process, during every case with writes (the page-1
 * ones first; the controls left out).
 */
export function changeCostRows(summary: readonly WorldSummary[]): string[][] {
  return [
    [
      "during",
      "change sets/s per process",
      "Redis B per process per change set",
      "Redis B/s (fleet)",
      "refresh p50 ms",
      "refresh p99 ms",
      "refresh mean ms",
      "change lag p50 ms",
      "change lag p99 ms",
      "worker publications/s",
      "worker PG reads per publication",
      "worker move mean ms",
    ],
    ...summary
      .filter((s) => s.writeRate > 0 && !isControl(s.workload))
      .map((s) => [
        s.name,
        fmt(s.changeSetsPerSecondPerProcess, 1),
        fmt(s.l2BytesPerChangeSet),
        fmt(s.l2BytesPerSecond),
        fmt(s.refreshP50Ms, 1),
        fmt(s.refreshP99Ms, 1),
        fmt(s.refreshMeanMs, 1),
        fmt(s.changeLagP50Ms, 1),
        fmt(s.changeLagP99Ms, 1),
        fmt(s.publicationsPerSecond, 1),
        fmt(s.hotPagesPerPublication, 2),
        fmt(s.moveMeanMs, 1),
      ]),
  ];
}

/**
 * Page 1 (saturating, then paced) on the fleet and on each control under the same
 * write stream: the same fleet told of no change (what a write rate does to this code
 * on this box; the fleet's difference from it is what change sets cost) and a bare uWS
 * server (the floor of any server here). Empty without the control cases.
 */
export function underTheSameWritesRows(summary: readonly WorldSummary[]): string[][] {
  const at = (workload: Workload, rate: number) =>
    summary.find(
      (s) => s.workload === workload && s.writeRate === rate && s.writeKind === "creates",
    );
  const pairs = (["page 1", "page 1, paced"] as const).flatMap((fleetLoad) =>
    Object.entries(CONTROL_WORKLOADS).map(
      ([controlName, loads]) => [fleetLoad, loads[fleetLoad], controlName] as const,
    ),
  );
  const rows: string[][] = [];
  for (const [fleetLoad, controlLoad, controlName] of pairs) {
    const fleet0 = at(fleetLoad, 0);
    const control0 = at(controlLoad, 0);
    if (fleet0 === undefined || control0 === undefined) continue;
    for (const fleet of summary.filter(
      (s) => s.workload === fleetLoad && s.writeKind === "creates",
    )) {
      const control = at(controlLoad, fleet.writeRate);
      if (control === undefined) continue;
      rows.push([
        fleetLoad,
        controlName,
        fmt(fleet.writeRate),
        `${fmt(fleet.p99Ms, 2)} / ${fmt(control.p99Ms, 2)}`,
        fmt(fleet.p99Ms / control.p99Ms, 2),
        `${fmt(fleet.p99Ms / fleet0.p99Ms, 2)} / ${fmt(control.p99Ms / control0.p99Ms, 2)}`,
        `${fmt(fleet.cpuUsPerRead, 2)} / ${fmt(control.cpuUsPerRead, 2)}`,
        fmt(control.cpuUsPerRead / fleet.cpuUsPerRead, 2),
        `${fmt(fleet0.cpuUsPerRead / fleet.cpuUsPerRead, 2)} / ${fmt(control0.cpuUsPerRead / control.cpuUsPerRead, 2)}`,
        `${fmt(fleet.rps)} / ${fmt(control.rps)}`,
      ]);
    }
  }
  if (rows.length === 0) return [];
  return [
    [
      "workload",
      "control",
      "writes/s",
      "p99 ms fleet / control",
      "p99 fleet / control",
      "p99 x no writes: fleet / control",
      "CPU µs/read fleet / control",
      "CPU control / fleet",
      "CPU no writes / with: fleet / control",
      "req/s fleet / control",
    ],
    ...rows,
  ];
}

/** The idle fleet under each write rate: CPU per second and per change set per process. */
export function changeCostIdleRows(costs: readonly ChangeCost[]): string[][] {
  return [
    [
      "no reads, writes/s asked",
      "writes/s accepted",
      "change sets/s (all processes)",
      "fleet CPU ms/s",
      "ms per process per change set",
    ],
    ...costs.map((c) => [
      fmt(c.writeRate),
      c.writeRate === 0 ? "-" : fmt(c.writesAcceptedPerSecond),
      fmt(c.changeSetsPerSecond, 1),
      fmt(c.fleetCpuMsPerSecond, 1),
      c.writeRate === 0 ? "-" : fmt(c.msPerChangeSet, 2),
    ]),
  ];
}

export function pipelinedRows(pipelined: readonly PipelinedWorldCase[]): string[][] {
  return [
    [
      "pipelining client",
      "answered",
      "req/s",
      "p99 ms",
      "non-200",
      "closed by server",
      "unanswered",
      "unanswered at end",
      "framing errors",
      "fleet CPU µs/read",
      "writes/s",
      "note",
    ],
    ...pipelined.map((p) => [
      p.name,
      fmt(p.client.answered),
      fmt(p.client.rps),
      fmt(p.client.p99Ms, 2),
      String(Object.values(p.client.non200).reduce((a, b) => a + b, 0)),
      String(p.client.closedByServer),
      String(p.client.unanswered),
      String(p.client.unansweredAtEnd),
      String(p.client.framingErrors),
      fmt(p.cpuUsPerRead, 2),
      fmt(p.writes.acceptedPerSecond, 1),
      [
        p.note,
        p.coldStart
          ? `listening ${p.coldStart.listenMs} ms after the spawn, /readyz ${p.coldStart.readyMs} ms`
          : "",
      ]
        .filter((x) => x !== "")
        .join("; "),
    ]),
  ];
}

export function comparisonRowsWorld(comparisons: readonly WorldComparison[]): string[][] {
  return [
    ["world target", "figures", "value", "target", "met"],
    ...comparisons.map((c) => [c.name, c.figures, fmt(c.value, 2), c.target, c.met ? "yes" : "NO"]),
  ];
}

/** Plain sentences about what the run could not do as asked (rates not reached, crashes). */
export function worldNotes(run: WorldRun, summary: readonly WorldSummary[]): string[] {
  const notes: string[] = [];
  const cap = run.writeCapacity;
  if (cap !== null)
    notes.push(
      `With no reads at all, the write stream at ${fmt(Math.max(...settings.world.writeRates))} writes/s got ` +
        `${fmt(cap.acceptedPerSecond)} accepted/s (mean latency ${fmt(cap.meanLatencyMs, 1)} ms, ${cap.skipped} skipped ` +
        `at the in-flight bound of ${settings.world.maxWritesInFlight}): the write path's ceiling on this box, before reads take their share of the CPUs.`,
    );
  for (const [what, p] of Object.entries(run.primed))
    if (!p.warm)
      notes.push(
        `the ${what} workload was still missing L1 after warming (${p.passes.join(", ")} misses per pass).`,
      );
  for (const s of summary) {
    if (s.writeRate > 0 && s.writesAcceptedPerSecond < 0.95 * s.writeRate) {
      notes.push(
        `${s.name}: the stream reached ${fmt(s.writesAcceptedPerSecond)} accepted writes/s of the ${fmt(s.writeRate)} asked ` +
          `(mean write latency ${fmt(s.writeLatencyMs, 1)} ms; ${s.writesSkipped} skipped at the in-flight bound, ` +
          `${s.writesRefused} refused, ${s.writesFailed} failed).`,
      );
    }
  }
  for (const e of run.unexpectedExits)
    notes.push(`${e.app} exited unexpectedly (code ${e.code}) ${e.atSec} s into the world cases.`);
  const restarts = run.cases.reduce((n, c) => n + c.stack.processRestarts, 0);
  if (restarts > 0) notes.push(`the read fleet's supervisor restarted ${restarts} worker(s).`);
  const lost = run.cases.reduce((n, c) => n + c.stack.changeSetsLost, 0);
  if (lost > 0)
    notes.push(`${lost} time(s) a process lost change sets beyond the log (full refresh).`);
  return notes;
}
