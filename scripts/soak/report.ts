import type { PaceResult } from "./pace";
import { isOk, isWrite, type Phase, percentile, type Recorder } from "./recorder";
import type { SoakPlan } from "./schedule";
import type { WriteVerdict } from "./verify";

export interface UnexpectedExit {
  app: string;
  code: number | null;
  atSec: number;
}

export interface SoakSummary {
  startedAt: string;
  minutes: number;
  plan: SoakPlan;
  windows: { kind: string; fromSec: number; toSec: number; detail: string }[];
  requests: { reads: number; writeAttempts: number; readsSkipped: number; writesSkipped: number };
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
    examples: string[];
  };
  violations: { outsideWindows: number; fiveXxOutsideWindows: number; disallowedInWindows: number };
  unexpectedExits: UnexpectedExit[];
  pass: boolean;
}

const sec = (ms: number) => Math.round(ms / 100) / 10;

export function summarize(
  recorder: Recorder,
  plan: SoakPlan,
  pace: { reads: PaceResult; writes: PaceResult },
  verdict: WriteVerdict,
  unexpectedExits: UnexpectedExit[],
): SoakSummary {
  const routes = new Map<string, { requests: number; non2xx: number }>();
  const non2xx = new Map<string, SoakSummary["non2xx"][number]>();
  const lat = new Map<Phase, { reads: number[]; writes: number[] }>();
  const violations = { outsideWindows: 0, fiveXxOutsideWindows: 0, disallowedInWindows: 0 };
  for (const s of recorder.samples) {
    const phase = recorder.phaseOf(s);
    const r = routes.get(s.route) ?? { requests: 0, non2xx: 0 };
    r.requests++;
    const l = lat.get(phase) ?? { reads: [], writes: [] };
    (isWrite(s.route) ? l.writes : l.reads).push(s.ms);
    lat.set(phase, l);
    routes.set(s.route, r);
    if (isOk(s)) continue;
    r.non2xx++;
    const allowed = recorder.allowed(s);
    if (phase === "steady") {
      violations.outsideWindows++;
      if (typeof s.status === "number" && s.status >= 500) violations.fiveXxOutsideWindows++;
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
    examples,
  };
  const pass =
    writes.lost +
      writes.doubled +
      writes.wrongState +
      writes.rejected +
      writes.idMismatches +
      writes.staleReads ===
      0 &&
    violations.outsideWindows + violations.disallowedInWindows === 0 &&
    unexpectedExits.length === 0;
  return {
    startedAt: new Date(recorder.startedAt).toISOString(),
    minutes: plan.durationMs / 60_000,
    plan,
    windows: recorder.windows.map((w) => ({
      kind: w.kind,
      fromSec: sec(w.start),
      toSec: sec(w.end),
      detail: w.detail,
    })),
    requests: {
      reads: recorder.samples.filter((s) => !isWrite(s.route)).length,
      writeAttempts: recorder.samples.filter((s) => isWrite(s.route)).length,
      readsSkipped: pace.reads.skipped,
      writesSkipped: pace.writes.skipped,
    },
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
    violations,
    unexpectedExits,
    pass,
  };
}
