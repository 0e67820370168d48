import { describe, expect, it } from "vitest";
import type { TestModule } from "vitest/node";
import { closingLine, countRun } from "../src/testing/closing-line";

/** A module as countRun sees it: its tests' states and its own. */
function moduleOf(states: string[], own = "passed"): TestModule {
  const tests = states.map((state) => ({ result: () => ({ state }) }));
  return {
    state: () => own,
    children: { allTests: () => tests.values() },
  } as unknown as TestModule;
}

describe("the closing line CI reads", () => {
  it("is one word, a colon, then N passed, N failed, and skipped only when there are some", () => {
    expect(closingLine({ passed: 808, failed: 0, skipped: 0 })).toBe("tests: 808 passed, 0 failed");
    expect(closingLine({ passed: 3, failed: 1, skipped: 2 })).toBe(
      "tests: 3 passed, 1 failed, 2 skipped",
    );
    expect(closingLine({ passed: 1, failed: 0, skipped: 0 })).toMatch(
      /^\w+: \d+ passed, \d+ failed(, \d+ skipped)?$/,
    );
  });

  it("counts every test, and a module that failed with no failed test as one failure", () => {
    const run = [
      moduleOf(["passed", "passed", "skipped"]),
      moduleOf(["passed", "failed", "pending"]),
      moduleOf([], "failed"), // an import error: nothing ran
      moduleOf(["failed"], "failed"), // its failure is the test's, counted once
    ];
    expect(countRun(run)).toEqual({ passed: 3, failed: 3, skipped: 2 });
    expect(countRun([])).toEqual({ passed: 0, failed: 0, skipped: 0 });
  });
});
