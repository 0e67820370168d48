import { describe, expect, it } from "vitest";
import type { Workload, WorldCase } from "../bench/world-measure";
import {
  changeCostRows,
  underTheSameWritesRows,
  type WorldSummary,
  worldComparisons,
} from "../bench/world-report";

/** A page-1 style summary: only the fields the tables read matter here. */
function summary(
  workload: Workload,
  writeRate: number,
  cpuUsPerRead: number,
  p99Ms = 4,
): WorldSummary {
  return {
    name: `${workload}, ${writeRate === 0 ? "no writes" : `${writeRate} w/s`}`,
    workload,
    writeRate,
    writeKind: "creates",
    rounds: 1,
    note: "",
    rps: 50_000,
    p99Ms,
    p50Ms: 1,
    socketErrors: 0,
    non2xx: 0,
    cpuUsPerRead,
    othersCores: 0,
    boxBusyCores: 2,
    writesAcceptedPerSecond: writeRate,
    writesRefused: 0,
    writesFailed: 0,
    writesSkipped: 0,
    writeLatencyMs: 5,
    fleetPostgresPerWrite: 0,
    workerPostgresPerWrite: 0,
    postgresQueries: { fleet: 0, worker: 0 },
    l2BytesPerChangeSet: 32_000,
    changeSetsPerSecondPerProcess: 20,
    l2BytesPerSecond: 1_000_000,
    refreshP50Ms: 0.5,
    refreshP99Ms: 40,
    refreshMeanMs: 1,
    changeLagP50Ms: 1,
    changeLagP99Ms: 5,
    changeLagMeanMs: 1,
    moveMeanMs: 1,
    publicationsPerSecond: 20,
    hotPagesPerPublication: 0.2,
    l1Misses: 0,
    l1Pages: { atStart: 100, after: 100 },
  };
}

// The fleet loses 12 % under 500 w/s; the untold fleet, the same code told of nothing, 10 %.
const runs = [
  summary("page 1", 0, 10),
  summary("page 1", 500, 11.2),
  summary("untold fleet, page 1", 0, 10),
  summary("untold fleet, page 1", 500, 11),
  summary("bare uWS, page 1", 0, 9),
  summary("bare uWS, page 1", 500, 9.1),
];

describe("the fleet against its controls under the same writes", () => {
  it("reads the page-1 CPU ratio over the untold fleet's beside the plain one", () => {
    const rows = worldComparisons(runs, []).filter((c) =>
      c.name.startsWith("page 1, 500 w/s: CPU"),
    );
    expect(rows.map((c) => [c.name, c.met])).toEqual([
      ["page 1, 500 w/s: CPU per read, no writes / with", false],
      ["page 1, 500 w/s: CPU per read, no writes / with, over the untold fleet's", true],
    ]);
    expect(rows[1]?.value).toBeCloseTo(10 / 11.2 / (10 / 11), 6);
  });

  it("compares the fleet with each control at every rate, and leaves the controls out of the change-cost table", () => {
    const table = underTheSameWritesRows(runs);
    expect(table.slice(1).map((r) => [r[0], r[1], r[2], r[7]])).toEqual([
      ["page 1", "untold fleet", "0", "1.00"],
      ["page 1", "untold fleet", "500", "0.98"],
      ["page 1", "bare uWS", "0", "0.90"],
      ["page 1", "bare uWS", "500", "0.81"],
    ]);
    expect(
      changeCostRows(runs)
        .slice(1)
        .map((r) => r[0]),
    ).toEqual(["page 1, 500 w/s"]);
  });
});

/** A measured case: only what the targets read. */
function worldCase(name: string, round: number, cpuUsPerRead: number, p99Ms: number): WorldCase {
  return { name, round, cpuUsPerRead, wrk: { p99Ms } } as unknown as WorldCase;
}

describe("the world targets", () => {
  it("divide cases of the same round, then take the median over rounds", () => {
    // The table grows over the run, so later rounds cost more per read: pairing round 1's
    // no-write case with round 3's case under writes would charge the drift to the writes.
    const none = [10, 12, 14];
    const with500 = [10.5, 12.4, 14.9];
    const p99None = [4, 5, 6];
    const p99With = [6, 7, 12];
    const cases = [0, 1, 2].flatMap((i) => [
      worldCase("page 1, no writes", i + 1, none[i] as number, p99None[i] as number),
      worldCase("page 1, 500 w/s", i + 1, with500[i] as number, p99With[i] as number),
    ]);
    const medians = [summary("page 1", 0, 12, 5), summary("page 1", 500, 12.4, 7)];
    const byName = new Map(worldComparisons(medians, [], cases).map((c) => [c.name, c.value]));
    const perRound = none.map((n, i) => n / (with500[i] as number)).sort((a, b) => a - b);
    expect(byName.get("page 1, 500 w/s: CPU per read, no writes / with")).toBeCloseTo(
      perRound[1] as number,
      9,
    );
    // p99 per round 1.5, 1.4, 2.0: the median 1.5, where the medians' ratio is 7 / 5.
    expect(byName.get("page 1, 500 w/s: p99 / no writes")).toBeCloseTo(1.5, 9);
    // Without the cases, the ratio of the medians.
    const unpaired = new Map(worldComparisons(medians, []).map((c) => [c.name, c.value]));
    expect(unpaired.get("page 1, 500 w/s: CPU per read, no writes / with")).toBeCloseTo(
      12 / 12.4,
      9,
    );
  });
});
