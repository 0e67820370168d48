import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "@million-rps/local";

export interface Row {
  figure: string;
  value: string;
  target: string;
  /** null: informational, no target. */
  ok: boolean | null;
}

export function renderTable(rows: readonly Row[]): string {
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

/** Writes `results/write-<stamp>.{json,md}` (git-ignored) and returns the Markdown path. */
export function writeResults(
  rows: readonly Row[],
  details: Record<string, unknown>,
  command: string,
): string {
  const dir = join(repoRoot, "results");
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const base = join(dir, `write-${stamp}`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ command, rows, details }, null, 2)}\n`);
  writeFileSync(
    `${base}.md`,
    `# Write path benchmark\n\n\`${command}\`\n\n${renderTable(rows)}\n\n\`\`\`json\n${JSON.stringify(details, null, 2)}\n\`\`\`\n`,
  );
  return `${base}.md`;
}
