import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  benchFigures,
  newestBenchFigures,
  newestBenchFile,
  readBenchFigures,
} from "../src/bench-results";
import { inputsFor } from "../src/capacity";

const run = (identity: number[], gzip: number[]) => ({
  floor: {
    bodyBytes: { identity: 21_749, gzip: 3_587 },
    cases: [],
    rounds: [
      ...identity.map((rps) => ({ name: "fleet 1 worker, identity", rps })),
      ...gzip.map((rps) => ({ name: "fleet 1 worker, gzip", rps })),
      { name: "bare uWS, identity", rps: 1 },
    ],
  },
});

describe("capacity inputs from the read benchmark's results", () => {
  it("takes the single-process medians and page sizes of a run", () => {
    expect(benchFigures(run([60_000, 70_000, 65_000], [90_000, 88_000]), "r.json")).toEqual({
      perProcessRps: { identity: 65_000, gzip: 89_000 },
      bodyBytes: { identity: 21_749, gzip: 3_587 },
      measuredIn: "r.json (median of 3 round(s))",
    });
  });

  it("reads the cases by their current name (fleet 1 process) as by the old one", () => {
    const renamed = run([60_000, 70_000, 65_000], [90_000, 88_000]);
    for (const r of renamed.floor.rounds) r.name = r.name.replace("1 worker", "1 process");
    expect(benchFigures(renamed, "r.json")?.perProcessRps).toEqual({
      identity: 65_000,
      gzip: 89_000,
    });
  });

  it("ignores a run that measured no single process (BENCH_ONLY=world)", () => {
    expect(benchFigures({ floor: null, world: {} }, "w.json")).toBeUndefined();
    expect(benchFigures(run([], [1]), "x.json")).toBeUndefined();
  });

  it("reads the newest results/read-bench-*.json", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-"));
    writeFileSync(
      join(dir, "read-bench-2026-01-01T00-00-00-000Z.json"),
      JSON.stringify(run([1], [2])),
    );
    writeFileSync(
      join(dir, "read-bench-2026-02-01T00-00-00-000Z.json"),
      JSON.stringify(run([3], [4])),
    );
    writeFileSync(join(dir, "read-bench-2026-03-01T00-00-00-000Z.md"), "not json");
    const newest = newestBenchFile(dir);
    expect(newest).toMatch(/2026-02-01/);
    const figures = readBenchFigures(newest as string);
    expect(figures?.perProcessRps).toEqual({ identity: 3, gzip: 4 });
    expect(inputsFor(undefined, figures).perProcessRps).toEqual({ identity: 3, gzip: 4 });
    expect(newestBenchFile(join(dir, "missing"))).toBeUndefined();
    // A newer run that measured no single process is skipped, and said so.
    writeFileSync(
      join(dir, "read-bench-2026-04-01T00-00-00-000Z.json"),
      JSON.stringify({ floor: null }),
    );
    expect(newestBenchFigures(dir)).toMatchObject({
      perProcessRps: { identity: 3, gzip: 4 },
      measuredIn: expect.stringMatching(
        /2026-02-01.*1 newer run\(s\) without single-process cases skipped$/,
      ),
    });
  });
});
