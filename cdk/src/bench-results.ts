import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Encoding } from "./capacity";

/** What capacity.ts takes from a read benchmark run (read-fleet/bench writes results/read-bench-*.json). */
export interface BenchFigures {
  perProcessRps: Record<Encoding, number>;
  bodyBytes: Record<Encoding, number>;
  measuredIn: string;
}

/** The single-process cases by name; runs before READ_PROCESSES called them "fleet 1 worker, ...". */
const CASES: Record<Encoding, readonly string[]> = {
  identity: ["fleet 1 process, identity", "fleet 1 worker, identity"],
  gzip: ["fleet 1 process, gzip", "fleet 1 worker, gzip"],
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * The single-process req/s (median over the run's rounds) and page sizes of one
 * results file; undefined when the run did not measure them (BENCH_ONLY=world).
 */
export function benchFigures(json: unknown, name: string): BenchFigures | undefined {
  const floor = (json as { floor?: unknown } | null)?.floor as
    | { cases?: unknown; rounds?: unknown; bodyBytes?: Record<string, unknown> }
    | undefined;
  if (floor === undefined || floor === null) return undefined;
  // Every round when the file has them, else the medians it shows.
  const rounds = Array.isArray(floor.rounds) ? floor.rounds : [];
  const cases = Array.isArray(floor.cases) ? floor.cases : [];
  const rows = (rounds.length > 0 ? rounds : cases) as { name?: unknown; rps?: unknown }[];
  const rps = (encoding: Encoding) =>
    rows
      .filter(
        (r) =>
          typeof r.name === "string" &&
          CASES[encoding].includes(r.name) &&
          typeof r.rps === "number",
      )
      .map((r) => r.rps as number);
  const identity = rps("identity");
  const gzip = rps("gzip");
  const bytes = floor.bodyBytes;
  if (identity.length === 0 || gzip.length === 0) return undefined;
  if (typeof bytes?.identity !== "number" || typeof bytes?.gzip !== "number") return undefined;
  return {
    perProcessRps: { identity: Math.round(median(identity)), gzip: Math.round(median(gzip)) },
    bodyBytes: { identity: bytes.identity, gzip: bytes.gzip },
    measuredIn: `${name} (median of ${identity.length} round(s))`,
  };
}

/** The newest results/read-bench-*.json (names sort by their ISO timestamp), if any. */
export function newestBenchFile(resultsDir: string): string | undefined {
  if (!existsSync(resultsDir)) return undefined;
  const files = readdirSync(resultsDir)
    .filter((f) => /^read-bench-.*\.json$/.test(f))
    .sort();
  const newest = files.at(-1);
  return newest === undefined ? undefined : join(resultsDir, newest);
}

/**
 * The newest results file that measured a single process (a BENCH_ONLY=world run
 * measures none and is skipped, and said so in `measuredIn`).
 */
export function newestBenchFigures(resultsDir: string): BenchFigures | undefined {
  if (!existsSync(resultsDir)) return undefined;
  const files = readdirSync(resultsDir)
    .filter((f) => /^read-bench-.*\.json$/.test(f))
    .sort()
    .reverse();
  for (const [i, f] of files.entries()) {
    const figures = readBenchFigures(join(resultsDir, f));
    if (figures === undefined) continue;
    const skipped = i === 0 ? "" : `; ${i} newer run(s) without single-process cases skipped`;
    return { ...figures, measuredIn: `${figures.measuredIn}${skipped}` };
  }
  return undefined;
}

export function readBenchFigures(file: string): BenchFigures | undefined {
  return benchFigures(JSON.parse(readFileSync(file, "utf8")), `results/${file.split("/").at(-1)}`);
}
