import type { WrkResult } from "./wrk";

export interface CaseResult extends Omit<WrkResult, "raw"> {
  name: string;
  server: string;
  note: string;
  cpuSeconds: number;
  /** Server CPU time (utime+stime of its processes) per completed request, microseconds. */
  cpuUsPerRequest: number;
}

export interface Comparison {
  name: string;
  subject: string;
  reference: string;
  target: number;
  /** subject req/s over reference req/s. */
  rpsRatio: number;
  /** reference CPU per request over subject CPU per request (higher: subject is cheaper). */
  cpuRatio: number;
  met: boolean;
}

export function compare(
  cases: readonly CaseResult[],
  name: string,
  subject: string,
  reference: string,
  target: number,
): Comparison | null {
  const s = cases.find((c) => c.name === subject);
  const r = cases.find((c) => c.name === reference);
  if (s === undefined || r === undefined) return null;
  const rpsRatio = s.rps / r.rps;
  const cpuRatio = r.cpuUsPerRequest / s.cpuUsPerRequest;
  return {
    name,
    subject,
    reference,
    target,
    rpsRatio,
    cpuRatio,
    met: rpsRatio >= target && cpuRatio >= target,
  };
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "-";

export function caseRows(cases: readonly CaseResult[]): string[][] {
  return [
    ["case", "req/s", "p50 ms", "p99 ms", "errors", "non-2xx", "CPU µs/req", "note"],
    ...cases.map((c) => [
      c.name,
      fmt(c.rps),
      fmt(c.p50Ms, 2),
      fmt(c.p99Ms, 2),
      String(c.socketErrors),
      String(c.non2xx),
      fmt(c.cpuUsPerRequest, 2),
      c.note,
    ]),
  ];
}

export function comparisonRows(comparisons: readonly Comparison[]): string[][] {
  return [
    ["comparison", "req/s ratio", "CPU ratio", "target", "met"],
    ...comparisons.map((c) => [
      c.name,
      fmt(c.rpsRatio, 2),
      fmt(c.cpuRatio, 2),
      `>= ${c.target}`,
      c.met ? "yes" : "NO",
    ]),
  ];
}

export function textTable(rows: readonly string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r, n) => {
      const line = r
        .map((cell, i) =>
          i === 0 || i === r.length - 1
            ? cell.padEnd(widths[i] ?? 0)
            : cell.padStart(widths[i] ?? 0),
        )
        .join("  ");
      return n === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

export function markdownTable(rows: readonly string[][]): string {
  const [head, ...body] = rows;
  if (head === undefined) return "";
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map((_, i) => (i === 0 || i === head.length - 1 ? "---" : "---:")).join(" | ")} |`,
    ...body.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}
