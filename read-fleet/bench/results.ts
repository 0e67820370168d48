import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { markdownTable, repoRoot, textTable } from "@million-rps/local";
import { worldChartSvg } from "./chart";
import { type CaseResult, type Comparison, caseRows, comparisonRows } from "./report";
import { say, settings } from "./settings";
import type { WorldRun } from "./world-cases";
import {
  changeCostIdleRows,
  changeCostRows,
  comparisonRowsWorld,
  pipelinedRows,
  summarizeWorld,
  underTheSameWritesRows,
  type WorldComparison,
  type WorldSummary,
  worldCaseRows,
  worldComparisons,
  worldNotes,
} from "./world-report";

export interface PipelineVerdict {
  ok: boolean;
  restarts: number;
  processPidsBefore: number[];
  processPidsAfter: number[];
  supervisorAlive: boolean;
}

/** The cases where nothing changes: single processes pinned, the references, the whole box. */
export interface FloorRun {
  conditions: string;
  bodyBytes: { identity: number; gzip: number };
  cases: readonly CaseResult[];
  rounds: readonly CaseResult[];
  comparisons: readonly Comparison[];
  pipelined: PipelineVerdict;
}

export interface Published {
  worldSummary: WorldSummary[];
  worldComparisons: WorldComparison[];
}

/** Prints the tables and writes them as JSON, Markdown and an SVG chart under results/ (git-ignored). */
export function publishResults(r: {
  startedAt: Date;
  floor: FloorRun | null;
  world: WorldRun | null;
}): Published {
  const text: string[] = [];
  const md: string[] = [
    `# Read path benchmark, ${r.startedAt.toISOString()}`,
    "",
    `Command: \`${commandLine()}\`.`,
    "",
  ];
  const floor = r.floor;
  if (floor !== null) {
    const cTable = caseRows(floor.cases);
    const kTable = comparisonRows(floor.comparisons);
    const verdict = floor.pipelined.ok
      ? "zero socket errors, every answer 2xx/3xx, supervisor and uWS process alive, no restart"
      : `FAILED (${JSON.stringify(floor.pipelined)})`;
    text.push(
      textTable(cTable),
      textTable(kTable),
      floor.conditions,
      `pipelined depth ${settings.pipelineDepth} (wrk, 1 uWS process), ${settings.pipelineSeconds} s: ${verdict}`,
    );
    md.push(
      "## Nothing changes: the floor",
      "",
      floor.conditions,
      "",
      markdownTable(cTable),
      "",
      "Ratios: req/s of the fleet over the reference's, and the reference's server CPU time " +
        "per request over the fleet's (both above 1: the fleet is faster and cheaper); with " +
        "several rounds, the median of each round's ratio (the two ran back to back).",
      "",
      markdownTable(kTable),
      "",
      `Pipelined depth ${settings.pipelineDepth} (wrk, 1 uWS process) for ${settings.pipelineSeconds} s: ${verdict}.`,
      "",
    );
  }
  const world = r.world;
  const worldSummary = world === null ? [] : summarizeWorld(world.cases);
  const comparisons =
    world === null ? [] : worldComparisons(worldSummary, world.pipelined, world.cases);
  const floorCpu =
    floor?.cases.find((c) => c.name === "bare uWS, identity")?.cpuUsPerRequest ?? null;
  const dir = join(repoRoot, "results");
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `read-bench-${r.startedAt.toISOString().replace(/[:.]/g, "-")}`);
  if (world !== null) {
    const wTable = worldCaseRows(worldSummary);
    const costTable = changeCostRows([
      ...worldSummary.filter((s) => s.workload === "page 1"),
      ...worldSummary.filter((s) => s.workload !== "page 1"),
    ]);
    const pTable = pipelinedRows(world.pipelined);
    const controlTable = underTheSameWritesRows(worldSummary);
    const idleTable = changeCostIdleRows(world.changeCost);
    const kTable = comparisonRowsWorld(comparisons);
    const notes = worldNotes(world, worldSummary);
    const floorNote =
      floorCpu === null
        ? "The bare uWS floor was not measured in this run (BENCH_ONLY=world)."
        : `Bare uWS floor (single process, pinned, same run): ${floorCpu.toFixed(2)} µs CPU per request.`;
    text.push(
      "Reads while the world changes",
      textTable(wTable),
      "What a change costs each process: Redis bytes read, refresh and change lag (page-1 rows: while GET /todos?limit=100 is read)",
      textTable(costTable),
      "What change sets alone cost the warm fleet (no reads)",
      textTable(idleTable),
      ...(controlTable.length === 0
        ? []
        : [
            "Under the same writes (page 1, saturating and paced: the fleet, then the same fleet told of no change, then a bare uWS server)",
            textTable(controlTable),
          ]),
      textTable(pTable),
      textTable(kTable),
      world.conditions,
      floorNote,
      ...notes.map((n) => `note: ${n}`),
    );
    md.push(
      "## Reads while the world changes",
      "",
      world.conditions,
      "",
      `![CPU per read and p99 against writes per second](${base.split("/").pop()}.svg)`,
      "",
      markdownTable(wTable),
      "",
      "`PG/write`: Postgres queries per write accepted, by the read fleet " +
        '(`read_cache_requests_total{level="postgres"}` hit + not_found) and by the worker ' +
        "(`worker_cache_queries_total`: hot pages, cached cursor pages, cached todos). `x no-write`: CPU per read over the same workload's " +
        "no-write figure.",
      "",
      "### What a change costs each process",
      "",
      'Redis bytes per process per change set: `read_l2_bytes_total` over `read_change_sets_total{result="applied"}`, ' +
        "both summed over processes. Refresh: `read_refresh_seconds` (how long a process answers from the bytes " +
        "before a change); change lag: `read_change_lag_seconds` (publish to apply); quantiles interpolated in " +
        "the histogram buckets.",
      "",
      markdownTable(costTable),
      "",
      "With no reads at all, the warm fleet (every workload's ids and pages held) while each write rate " +
        "flows: fleet CPU per second, and its excess over the no-write window per change set applied " +
        "(summed over processes): the CPU one process spends on one change set.",
      "",
      markdownTable(idleTable),
      "",
      ...(controlTable.length === 0
        ? []
        : [
            "### Under the same writes: the fleet against two controls",
            "",
            "Page 1 read from the fleet (saturating, then paced) and, right after at the same write rate, from two " +
              "controls beside the stack. The untold fleet is the same read fleet with as many processes on another " +
              "key prefix: no change set reaches it, so what the write stream does to its CPU per read and p99 is what " +
              "the write path's share of these CPUs does to this code, and the fleet's difference from it is what " +
              "change sets and refreshes cost the read path. The bare uWS server serves page 1's bytes and nothing " +
              "else: the floor of any server here under these writes.",
            "",
            markdownTable(controlTable),
            "",
          ]),
      "### Pipelining client (every response parsed and framed)",
      "",
      markdownTable(pTable),
      "",
      "### Targets",
      "",
      "Each ratio is the median over rounds of the ratio within a round (the two cases ran minutes apart there); the figures beside it are medians over rounds.",
      "",
      markdownTable(kTable),
      "",
      floorNote,
      "",
      ...notes.map((n) => `- ${n}`),
      "",
    );
    const svg = worldChartSvg({
      title: "Reads while writes flow: whole fleet, CPU per read and p99",
      subtitle:
        `${r.startedAt.toISOString().slice(0, 16)}Z; read fleet ${settings.world.readProcesses} processes, wrk -t${settings.world.wrkThreads} -c${settings.connections}, ` +
        `${settings.seconds} s per case, medians of ${settings.world.rounds}; whole native stack on ${availableParallelism()} ` +
        (settings.world.split
          ? `CPUs, split: the read side on CPU ${settings.wrkCpu}, the write side on CPU ${settings.serverCpu}`
          : "shared CPUs"),
      summary: worldSummary,
      floorCpuUs: floorCpu,
    });
    writeFileSync(`${base}.svg`, svg);
  }
  console.log(`\n${text.join("\n\n")}\n`);
  writeFileSync(
    `${base}.json`,
    JSON.stringify(
      {
        startedAt: r.startedAt.toISOString(),
        command: commandLine(),
        settings,
        floor,
        world: world === null ? null : { ...world, summary: worldSummary, comparisons },
      },
      null,
      2,
    ),
  );
  writeFileSync(`${base}.md`, md.join("\n"));
  say(`wrote ${base}.json, .md${world === null ? "" : " and .svg"}`);
  return { worldSummary, worldComparisons: comparisons };
}

/** The command as a reader would type it, with the BENCH_* settings that were given. */
function commandLine(): string {
  const vars = Object.entries(process.env)
    .filter(([k]) => k.startsWith("BENCH_"))
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  return [...vars, "npm run bench:read"].join(" ");
}
