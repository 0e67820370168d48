import type { Reporter, TestModule } from "vitest/node";

/** What a run counted, test by test; a module that failed outside its tests counts as one failure. */
export interface RunCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * The plain closing line CI reads whatever the language ("N passed, N failed",
 * then ", N skipped"), after one word and a colon. Vitest's own summary is not a
 * runner CI knows, so without this line a run is judged by its exit code alone.
 */
export function closingLine(c: RunCounts): string {
  const skipped = c.skipped > 0 ? `, ${c.skipped} skipped` : "";
  return `tests: ${c.passed} passed, ${c.failed} failed${skipped}`;
}

export function countRun(modules: ReadonlyArray<TestModule>): RunCounts {
  const c: RunCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const m of modules) {
    let failedHere = 0;
    for (const t of m.children.allTests()) {
      const state = t.result().state;
      if (state === "passed") c.passed++;
      else if (state === "failed") failedHere++;
      else c.skipped++;
    }
    // A file that could not load or whose hook threw has no failed test to show for it.
    if (failedHere === 0 && m.state() === "failed") failedHere = 1;
    c.failed += failedHere;
  }
  return c;
}

/** Ends every `vitest run` with `closingLine` (vitest.config.ts lists it after the default reporter). */
export default class ClosingLineReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    process.stdout.write(`${closingLine(countRun(modules))}\n`);
  }
}
