import type { LoadFigures } from "./load-meter";
import type { PaceResult } from "./pace";
import type { PipelineStats } from "./pipelined-reader";
import {
  isOk,
  isWrite,
  type Phase,
  PIPELINED_ROUTES,
  percentile,
  type Recorder,
  type ServerClose,
  WINDOW_ALLOWS,
} from "./recorder";
import type { FaultKind, SoakPlan } from "./schedule";
import type { WriteVerdict } from "./verify";
import type { WriteOp } from "./write-attempts";

export interface UnexpectedExit {
  app: string;
  code: number | null;
  atSec: number;
}

/** Per second: over the whole traffic time, and over its steady part (outside every fault window). */
export interface Rate {
  all: number;
  steady: number;
}

export interface SoakSummary {
  startedAt: string;
  minutes: number;
  plan: SoakPlan;
  /** What was asked for, per second. */
  target: { reads: number; pipelined: number; writes: number };
  windows: { kind: string; fromSec: number; toSec: number; detail: string }[];
  /** What each kind of window allows (the words for `allowedInWindow`). */
  allows: { kind: FaultKind; allows: string }[];
  requests: {
    reads: number;
    pipelinedReads: number;
    writeAttempts: number;
    readsSkipped: number;
    pipelinedSkipped: number;
    writesSkipped: number;
  };
  /** Achieved: HTTP answers per second (reads, of which pipelined), write attempts and 202s. */
  rates: {
    trafficSec: number;
    steadySec: number;
    reads: Rate;
    pipelinedReads: Rate;
    writeAttempts: Rate;
    writesAccepted: Rate;
  };
  /** Per time bucket (by when each exchange started): what was answered, how fast, and which faults overlapped it. */
  timeline: {
    fromSec: number;
    faults: string;
    readsPerSec: number;
    readP99: number;
    writeAttemptsPerSec: number;
    acceptedPerSec: number;
    writeP99: number;
    non2xx: number;
  }[];
  load?: LoadFigures;
  pipeline?: PipelineStats & { closesOutsideReadWorker: number; closes: ServerClose[] };
  byRoute: { route: string; requests: number; non2xx: number }[];
  non2xx: { route: string; phase: Phase; status: string; count: number; allowed: boolean }[];
  latency: {
    phase: Phase;
    reads: number;
    readP50: number;
    readP99: number;
    writes: number;
    writeP50: number;
    writeP99: number;
  }[];
  writes: Omit<
    WriteVerdict,
    "lost" | "doubled" | "wrongState" | "rejected" | "abandoned" | "staleReads"
  > & {
    lost: number;
    doubled: number;
    wrongState: number;
    rejected: number;
    abandoned: number;
    abandonedApplied: number;
    staleReads: number;
    /** 422: a key reused for another request, which the soak never does. */
    keyReused: number;
    examples: string[];
  };
  /** Polls of command ids the write API issued that answered 404 (never allowed). */
  commandPolls404: number;
  violations: {
    outsideWindows: number;
    fiveXxOutsideWindows: number;
    disallowedInWindows: number;
    /** Pipelined connections the server closed outside a read-worker window. */
    pipelinedClosesOutsideReadWorker: number;
  };
  unexpectedExits: UnexpectedExit[];
  pass: boolean;
}

const sec = (ms: number) => Math.round(ms / 100) / 10;
const perSec = (n: number, ms: number) => (ms <= 0 ? 0 : Math.round((10_000 * n) / ms) / 10);

/** Milliseconds of [0, end) covered by at least one window. */
function coveredMs(windows: readonly { start: number; end: number }[], end: number): number {
  let covered = 0;
  let reach = 0;
  for (const w of [...windows].sort((a, b) => a.start - b.start)) {
    const from = Math.max(w.start, reach);
    const to = Math.min(w.end, end);
    if (to > from) covered += to - from;
    reach = Math.max(reach, w.end);
  }
  return covered;
}

export interface SummaryExtras {
  /** Traffic time, ms (default: until the last exchange ended). */
  trafficMs?: number;
  load?: LoadFigures;
  pipeline?: PipelineStats;
  target?: SoakSummary["target"];
  /** The writer's ops: a write answered what its window does not allow is shown with every attempt. */
  ops?: readonly WriteOp[];
}

export function summarize(
  recorder: Recorder,
  plan: SoakPlan,
  pace: { reads: PaceResult; writes: PaceResult; pipelined?: PaceResult },
  verdict: WriteVerdict,
  unexpectedExits: UnexpectedExit[],
  extras: SummaryExtras = {},
): SoakSummary {
  const routes = new Map<string, { requests: number; non2xx: number }>();
  const non2xx = new Map<string, SoakSummary["non2xx"][number]>();
  const lat = new Map<Phase, { reads: number[]; writes: number[] }>();
  const violations = {
    outsideWindows: 0,
    fiveXxOutsideWindows: 0,
    disallowedInWindows: 0,
    pipelinedClosesOutsideReadWorker: 0,
  };
  const counts = { reads: 0, pipelined: 0, writes: 0, accepted: 0 };
  const steady = { reads: 0, pipelined: 0, writes: 0, accepted: 0 };
  let keyReused = 0;
  let commandPolls404 = 0;
  let lastEnd = 0;
  /** Writes with an answer nothing allows: their ops, for the examples. */
  const badOps = new Set<number>();
  for (const s of recorder.samples) {
    const phase = recorder.phaseOf(s);
    const write = isWrite(s.route);
    const pipelined = PIPELINED_ROUTES.includes(s.route);
    lastEnd = Math.max(lastEnd, s.t + s.ms);
    // Rates count HTTP answers (and every write attempt), by the time each exchange started.
    const answered = typeof s.status === "number";
    for (const [c, on] of [
      [counts, true],
      [steady, phase === "steady"],
    ] as const) {
      if (!on) continue;
      if (write) {
        c.writes++;
        if (s.status === 202) c.accepted++;
      } else if (answered) {
        c.reads++;
        if (pipelined) c.pipelined++;
      }
    }
    const r = routes.get(s.route) ?? { requests: 0, non2xx: 0 };
    r.requests++;
    const l = lat.get(phase) ?? { reads: [], writes: [] };
    (write ? l.writes : l.reads).push(s.ms);
    lat.set(phase, l);
    routes.set(s.route, r);
    if (isOk(s)) continue;
    if (write && s.status === 422) keyReused++;
    if (s.route === "GET /commands/{id}" && s.status === 404) commandPolls404++;
    r.non2xx++;
    const allowed = recorder.allowed(s);
    if (!allowed && s.op !== undefined && badOps.size < 5) badOps.add(s.op);
    if (phase === "steady") {
      if (!allowed) {
        violations.outsideWindows++;
        if (typeof s.status === "number" && s.status >= 500) violations.fiveXxOutsideWindows++;
      }
    } else if (!allowed) violations.disallowedInWindows++;
    const key = `${s.route}|${phase}|${s.status}|${allowed}`;
    const entry = non2xx.get(key) ?? {
      route: s.route,
      phase,
      status: String(s.status),
      count: 0,
      allowed,
    };
    entry.count++;
    non2xx.set(key, entry);
  }
  for (const c of recorder.serverCloses)
    if (!recorder.closeAllowed(c)) violations.pipelinedClosesOutsideReadWorker++;
  const trafficMs = extras.trafficMs ?? lastEnd;
  const bucketMs = Math.max(5, Math.round((3 * plan.durationMs) / 60_000)) * 1000;
  // A last bucket under a tenth of the others (the few ms past the planned end) joins the one before.
  const buckets = Array.from(
    { length: Math.max(1, Math.ceil(trafficMs / bucketMs - 0.1)) },
    () => ({
      reads: [] as number[],
      writes: [] as number[],
      accepted: 0,
      non2xx: 0,
    }),
  );
  for (const s of recorder.samples) {
    const b = buckets[Math.min(buckets.length - 1, Math.floor(s.t / bucketMs))];
    if (b === undefined) continue;
    if (isWrite(s.route)) {
      b.writes.push(s.ms);
      if (s.status === 202) b.accepted++;
    } else if (typeof s.status === "number") b.reads.push(s.ms);
    if (!isOk(s)) b.non2xx++;
  }
  const timeline = buckets.map((b, i) => {
    const from = i * bucketMs;
    const to = i === buckets.length - 1 ? trafficMs : from + bucketMs;
    const span = Math.max(1, to - from);
    return {
      fromSec: from / 1000,
      faults: [
        ...new Set(recorder.windows.filter((w) => w.start < to && w.end > from).map((w) => w.kind)),
      ].join(", "),
      readsPerSec: perSec(b.reads.length, span),
      readP99: percentile(b.reads, 99),
      writeAttemptsPerSec: perSec(b.writes.length, span),
      acceptedPerSec: perSec(b.accepted, span),
      writeP99: percentile(b.writes, 99),
      non2xx: b.non2xx,
    };
  });
  const steadyMs = trafficMs - coveredMs(recorder.windows, trafficMs);
  const rate = (all: number, st: number): Rate => ({
    all: perSec(all, trafficMs),
    steady: perSec(st, steadyMs),
  });
  const examples = [
    ...verdict.lost.slice(0, 5).map((id) => `lost: command ${id}`),
    ...verdict.doubled
      .slice(0, 5)
      .map((d) => `doubled: todo ${d.id} version ${d.actual}, expected ${d.expected}`),
    ...verdict.wrongState.slice(0, 5).map((w) => `wrong state: todo ${w.id}: ${w.problem}`),
    ...verdict.rejected.slice(0, 5).map((r) => `rejected: command ${r.commandId} (${r.reason})`),
    ...verdict.staleReads
      .slice(0, 5)
      .map((s) => `stale read: todo ${s.id} served "${s.served}", expected "${s.expected}"`),
    ...[...badOps].flatMap((i) => {
      const op = extras.ops?.[i];
      return op === undefined
        ? []
        : [
            `answer not allowed: ${op.route} (Idempotency-Key of op ${i}, command ${op.commandId}), attempts ${op.history?.join(", ")}; ended ${op.outcome}`,
          ];
    }),
  ];
  const writes = {
    accepted: verdict.accepted,
    lost: verdict.lost.length,
    doubled: verdict.doubled.length,
    wrongState: verdict.wrongState.length,
    rejected: verdict.rejected.length,
    abandoned: verdict.abandoned.length,
    abandonedApplied: verdict.abandoned.filter((a) => a.applied).length,
    idMismatches: verdict.idMismatches,
    drainMs: verdict.drainMs,
    staleReads: verdict.staleReads.length,
    keyReused,
    examples,
  };
  const pass =
    writes.lost +
      writes.doubled +
      writes.wrongState +
      writes.rejected +
      writes.idMismatches +
      writes.staleReads +
      writes.keyReused +
      commandPolls404 ===
      0 &&
    violations.outsideWindows +
      violations.disallowedInWindows +
      violations.pipelinedClosesOutsideReadWorker ===
      0 &&
    (extras.pipeline?.unansweredAtEnd ?? 0) + (extras.pipeline?.framingErrors ?? 0) === 0 &&
    unexpectedExits.length === 0;
  const kinds = [...new Set(plan.faults.map((f) => f.kind))];
  return {
    startedAt: new Date(recorder.startedAt).toISOString(),
    minutes: plan.durationMs / 60_000,
    plan,
    target: extras.target ?? { reads: 0, pipelined: 0, writes: 0 },
    windows: recorder.windows.map((w) => ({
      kind: w.kind,
      fromSec: sec(w.start),
      toSec: sec(w.end),
      detail: w.detail,
    })),
    allows: kinds.map((kind) => ({ kind, allows: WINDOW_ALLOWS[kind] })),
    requests: {
      reads: recorder.samples.filter((s) => !isWrite(s.route)).length,
      pipelinedReads: recorder.samples.filter((s) => PIPELINED_ROUTES.includes(s.route)).length,
      writeAttempts: recorder.samples.filter((s) => isWrite(s.route)).length,
      readsSkipped: pace.reads.skipped,
      pipelinedSkipped: pace.pipelined?.skipped ?? 0,
      writesSkipped: pace.writes.skipped,
    },
    rates: {
      trafficSec: sec(trafficMs),
      steadySec: sec(steadyMs),
      reads: rate(counts.reads, steady.reads),
      pipelinedReads: rate(counts.pipelined, steady.pipelined),
      writeAttempts: rate(counts.writes, steady.writes),
      writesAccepted: rate(counts.accepted, steady.accepted),
    },
    timeline,
    ...(extras.load && { load: extras.load }),
    ...(extras.pipeline && {
      pipeline: {
        ...extras.pipeline,
        closesOutsideReadWorker: violations.pipelinedClosesOutsideReadWorker,
        closes: recorder.serverCloses,
      },
    }),
    byRoute: [...routes].map(([route, r]) => ({ route, ...r })),
    non2xx: [...non2xx.values()].sort(
      (a, b) => a.route.localeCompare(b.route) || a.phase.localeCompare(b.phase),
    ),
    latency: [...lat].map(([phase, l]) => ({
      phase,
      reads: l.reads.length,
      readP50: percentile(l.reads, 50),
      readP99: percentile(l.reads, 99),
      writes: l.writes.length,
      writeP50: percentile(l.writes, 50),
      writeP99: percentile(l.writes, 99),
    })),
    writes,
    commandPolls404,
    violations,
    unexpectedExits,
    pass,
  };
}
