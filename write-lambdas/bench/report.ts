import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "@million-rps/local";

/** One printed figure; `ok` null when it has no target. */
export interface Row {
  figure: string;
  value: string;
  target: string;
  ok: boolean | null;
}

export function table(rows: readonly Row[]): string {
  const head = ["figure", "value", "target", "ok"];
  const cells = rows.map((r) => [
    r.figure,
    r.value,
    r.target,
    r.ok === null ? "" : r.ok ? "yes" : "NO",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: readonly string[]) =>
    `| ${c.map((v, i) => v.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [
    line(head),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...cells.map(line),
  ].join("\n");
}

/** Prints the table and writes `results/<name>-<stamp>.{json,md}` (git-ignored). */
export function report(
  name: string,
  command: string,
  rows: readonly Row[],
  details: unknown,
): void {
  const text = table(rows);
  process.stdout.write(`\n${command}\n\n${text}\n`);
  const dir = join(repoRoot, "results");
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ command, rows, details }, null, 2)}\n`);
  writeFileSync(`${base}.md`, `# ${name}\n\n\`${command}\`\n\n${text}\n`);
  process.stdout.write(`\nwritten: ${base}.md\n`);
}

/** The q-quantile (0..1) of sorted numbers, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN
  );
}
