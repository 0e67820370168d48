import { describe, expect, it } from "vitest";
import { type CaseResult, compare, summarize } from "../bench/report";

/** One round's result of one case: only the fields compare reads matter here. */
function run(name: string, round: number, rps: number, cpuUsPerRequest: number): CaseResult {
  return {
    name,
    round,
    server: name,
    note: "",
    rps,
    cpuUsPerRequest,
    systemCpuUsPerRequest: cpuUsPerRequest,
    cpuSeconds: 0,
    requests: 0,
    seconds: 10,
    p50Ms: 0,
    p99Ms: 0,
    socketErrors: 0,
    non2xx: 0,
  } as CaseResult;
}

describe("compare", () => {
  it("takes the median of each round's ratio, not the ratio of the medians", () => {
    // The 12-04 floor run's identity rounds, reordered: one round slow for both, one
    // slow for the fleet only.
    const cases = [
      run("bare", 1, 51_843, 18.12),
      run("fleet", 1, 53_000, 17.78),
      run("bare", 2, 73_993, 12.47),
      run("fleet", 2, 76_006, 12.86),
      run("bare", 3, 73_827, 12.38),
      run("fleet", 3, 64_196, 14.99),
    ];
    const c = compare(cases, "fleet vs bare", "fleet", "bare", 0.9);
    // CPU per round 1.019, 0.970, 0.826: the median is round 2's.
    expect(c?.cpuRatio).toBeCloseTo(12.47 / 12.86, 6);
    expect(c?.systemCpuRatio).toBeCloseTo(12.47 / 12.86, 6);
    // The medians' ratio pairs round 2's bare server with round 3's fleet.
    const [fleet, bare] = ["fleet", "bare"].map((n) => summarize(cases).find((x) => x.name === n));
    expect((bare?.cpuUsPerRequest ?? 0) / (fleet?.cpuUsPerRequest ?? 1)).toBeCloseTo(0.832, 3);
    // Each ratio is its own median: req/s per round 1.022, 1.027, 0.870.
    expect(c?.rpsRatio).toBeCloseTo(53_000 / 51_843, 6);
    expect(c?.met).toBe(true);
  });

  it("pairs only the rounds both ran, and says nothing when none did", () => {
    const cases = [run("bare", 1, 100, 10), run("fleet", 1, 90, 11), run("fleet", 2, 10, 100)];
    expect(compare(cases, "x", "fleet", "bare", 0.9)?.cpuRatio).toBeCloseTo(10 / 11, 6);
    expect(compare(cases, "x", "fleet", "other", 0.9)).toBeNull();
  });
});
