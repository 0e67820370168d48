/**
 * How every bench prints its tables and keeps its results: tables of string cells
 * (the read bench's cases and comparisons), figures against their targets (the
 * write and worker benches), and the `results/` files (git-ignored) they leave.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./paths";

/** One printed figure; `ok` null when it has no target. */
export interface BenchFigure {
  figure: string;
  value: string;
  target: string;
  ok: boolean | null;
}

/** Plain text: first and last columns left-aligned, the others right-aligned, a rule under the header. */
export function textTable(rows: readonly string[][]): string {
  const widths = columnWidths(rows);
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

/** Markdown, aligned as textTable is (the columns between the first and the last right-aligned). */
export function markdownTable(rows: readonly string[][]): string {
  const [head, ...body] = rows;
  if (head === undefined) return "";
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map((_, i) => (i === 0 || i === head.length - 1 ? "---" : "---:")).join(" | ")} |`,
    ...body.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** Figures against their targets, as Markdown padded to read as plain text too. */
export function figureTable(figures: readonly BenchFigure[]): string {
  const rows = [
    ["figure", "value", "target", "ok"],
    ...figures.map((f) => [f.figure, f.value, f.target, f.ok === null ? "" : f.ok ? "yes" : "NO"]),
  ];
  const widths = columnWidths(rows);
  const line = (r: readonly string[]) =>
    `| ${r.map((v, i) => v.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const [head, ...body] = rows.map(line);
  return [head, `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body].join("\n");
}

/**
 * The load average now, as an informational figure: on a shared 2-core machine
 * tails and init times move with other processes, and this says how busy it was.
 */
export function loadAverageFigure(): BenchFigure {
  const value = loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  return { figure: "load average (1/5/15 min) after the run", value, target: "", ok: null };
}

function columnWidths(rows: readonly string[][]): number[] {
  return (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
}

export interface FigureResults {
  /** File name stem: `results/<name>-<stamp>.{json,md}`. */
  name: string;
  /** The Markdown heading; `name` when unset. */
  title?: string;
  command: string;
  figures: readonly BenchFigure[];
  details: unknown;
  /** Also append the details to the Markdown, as a JSON block. */
  detailsInMarkdown?: boolean;
}

/** Writes `results/<name>-<stamp>.{json,md}` (git-ignored) and returns the Markdown path. */
export function writeFigureResults(r: FigureResults): string {
  const dir = join(repoRoot, "results");
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${r.name}-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  const { command, figures: rows, details } = r;
  writeFileSync(`${base}.json`, `${JSON.stringify({ command, rows, details }, null, 2)}\n`);
  const json = r.detailsInMarkdown
    ? `\n\`\`\`json\n${JSON.stringify(details, null, 2)}\n\`\`\`\n`
    : "";
  writeFileSync(
    `${base}.md`,
    `# ${r.title ?? r.name}\n\n\`${command}\`\n\n${figureTable(rows)}\n${json}`,
  );
  return `${base}.md`;
}

/** Prints the command and its figures, writes them under results/, and says where. */
export function reportFigures(r: FigureResults): void {
  process.stdout.write(`\n${r.command}\n\n${figureTable(r.figures)}\n`);
  process.stdout.write(`\nwritten: ${writeFigureResults(r)}\n`);
}

/** The q-quantile (0..1) of sorted numbers, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN
  );
}
