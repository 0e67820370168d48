import type { WrkResult } from "./wrk";

export interface CaseResult extends Omit<WrkResult, "raw"> {
  name: string;
  /** 1-based round; cases of several rounds are summarised by their median. */
  round: number;
  server: string;
  note: string;
  cpuSeconds: number;
  /** Server CPU time (utime+stime of its processes) per completed request, microseconds. */
  cpuUsPerRequest: number;
  /** The same plus the Redis the server side uses (per request for the references, idle for the fleet). */
  systemCpuUsPerRequest: number;
}

export interface Comparison {
  name: string;
  subject: string;
  reference: string;
  target: number;
  /** subject req/s over reference req/s. */
  rpsRatio: number;
  /** reference CPU per request over subject CPU per request (higher: subject is cheaper), server processes only. */
  cpuRatio: number;
  /** The same with the server side's Redis counted: the figure the targets are judged on. */
  systemCpuRatio: number;
  met: boolean;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One row per case: medians over rounds for rates and latencies, sums for errors. */
export function summarize(cases: readonly CaseResult[]): CaseResult[] {
  const names = [...new Set(cases.map((c) => c.name))];
  return names.map((name) => {
    const runs = cases.filter((c) => c.name === name);
    const first = runs[0] as CaseResult;
    if (runs.length === 1) return first;
    const m = (f: (c: CaseResult) => number) => median(runs.map(f));
    return {
      ...first,
      round: 0,
      note: `${first.note}${first.note === "" ? "" : "; "}median of ${runs.length}`,
      requests: runs.reduce((n, c) => n + c.requests, 0),
      seconds: runs.reduce((n, c) => n + c.seconds, 0),
      rps: m((c) => c.rps),
      p50Ms: m((c) => c.p50Ms),
      p99Ms: m((c) => c.p99Ms),
      socketErrors: runs.reduce((n, c) => n + c.socketErrors, 0),
      non2xx: runs.reduce((n, c) => n + c.non2xx, 0),
      cpuSeconds: runs.reduce((n, c) => n + c.cpuSeconds, 0),
      cpuUsPerRequest: m((c) => c.cpuUsPerRequest),
      systemCpuUsPerRequest: m((c) => c.systemCpuUsPerRequest),
    };
  });
}

/**
 * Subject against reference. With several rounds the ratios are the median over
 * rounds of each round's own ratio: the two ran back to back in each round, so what
 * the box does to both in one round cancels, where a ratio of the two medians can
 * pair one's quiet round with the other's slow one. `cases` are the rounds' results.
 */
export function compare(
  cases: readonly CaseResult[],
  name: string,
  subject: string,
  reference: string,
  target: number,
): Comparison | null {
  const pairs: [CaseResult, CaseResult][] = [];
  for (const s of cases) {
    if (s.name !== subject) continue;
    const r = cases.find((c) => c.name === reference && c.round === s.round);
    if (r !== undefined) pairs.push([s, r]);
  }
  if (pairs.length === 0) return null;
  const ratio = (f: (s: CaseResult, r: CaseResult) => number) =>
    median(pairs.map(([s, r]) => f(s, r)));
  const rpsRatio = ratio((s, r) => s.rps / r.rps);
  const cpuRatio = ratio((s, r) => r.cpuUsPerRequest / s.cpuUsPerRequest);
  const systemCpuRatio = ratio((s, r) => r.systemCpuUsPerRequest / s.systemCpuUsPerRequest);
  return {
    name,
    subject,
    reference,
    target,
    rpsRatio,
    cpuRatio,
    systemCpuRatio,
    met: rpsRatio >= target && systemCpuRatio >= target,
  };
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "-";

export function caseRows(cases: readonly CaseResult[]): string[][] {
  return [
    [
      "case",
      "req/s",
      "p50 ms",
      "p99 ms",
      "errors",
      "non-2xx",
      "CPU µs/req",
      "+ Redis µs/req",
      "note",
    ],
    ...cases.map((c) => [
      c.name,
      fmt(c.rps),
      fmt(c.p50Ms, 2),
      fmt(c.p99Ms, 2),
      String(c.socketErrors),
      String(c.non2xx),
      fmt(c.cpuUsPerRequest, 2),
      fmt(c.systemCpuUsPerRequest, 2),
      c.note,
    ]),
  ];
}

export function comparisonRows(comparisons: readonly Comparison[]): string[][] {
  return [
    ["comparison", "req/s ratio", "CPU ratio (server)", "CPU ratio (+ Redis)", "target", "met"],
    ...comparisons.map((c) => [
      c.name,
      fmt(c.rpsRatio, 2),
      fmt(c.cpuRatio, 2),
      fmt(c.systemCpuRatio, 2),
      `>= ${c.target}`,
      c.met ? "yes" : "NO",
    ]),
  ];
}
