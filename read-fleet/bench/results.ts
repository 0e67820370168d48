import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "@million-rps/local";
import {
  type CaseResult,
  type Comparison,
  caseRows,
  comparisonRows,
  markdownTable,
  textTable,
} from "./report";
import { say, settings } from "./settings";

export interface PipelineVerdict {
  ok: boolean;
  restarts: number;
  workerPidsBefore: number[];
  workerPidsAfter: number[];
  supervisorAlive: boolean;
}

/** Prints the table and writes it as JSON and Markdown under results/ (git-ignored). */
export function publishResults(r: {
  startedAt: Date;
  conditions: string;
  bodyBytes: { identity: number; gzip: number };
  cases: readonly CaseResult[];
  comparisons: readonly Comparison[];
  pipelined: PipelineVerdict;
}): void {
  const cTable = caseRows(r.cases);
  const kTable = comparisonRows(r.comparisons);
  const verdict = r.pipelined.ok
    ? "zero socket errors, every answer 2xx/3xx, supervisor and worker alive, no restart"
    : `FAILED (${JSON.stringify(r.pipelined)})`;
  console.log(`\n${textTable(cTable)}\n\n${textTable(kTable)}\n\n${r.conditions}\n`);
  console.log(
    `pipelined depth ${settings.pipelineDepth}, ${settings.pipelineSeconds} s: ${verdict}\n`,
  );
  const dir = join(repoRoot, "results");
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `read-bench-${r.startedAt.toISOString().replace(/[:.]/g, "-")}`);
  writeFileSync(
    `${base}.json`,
    JSON.stringify({ ...r, startedAt: r.startedAt.toISOString(), settings }, null, 2),
  );
  writeFileSync(
    `${base}.md`,
    [
      `# Read path benchmark, ${r.startedAt.toISOString()}`,
      "",
      `Command: \`npm run bench:read\`. ${r.conditions}`,
      "",
      markdownTable(cTable),
      "",
      "Ratios: req/s of the fleet over the reference's, and the reference's server CPU time " +
        "per request over the fleet's (both above 1: the fleet is faster and cheaper).",
      "",
      markdownTable(kTable),
      "",
      `Pipelined depth ${settings.pipelineDepth} for ${settings.pipelineSeconds} s: ${verdict}.`,
      "",
    ].join("\n"),
  );
  say(`wrote ${base}.json and .md`);
}
