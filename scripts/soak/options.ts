import { parseArgs } from "node:util";

/** What `npm run soak -- ...` may set; every number has a default suited to a shared 2-core box. */
export interface SoakOptions {
  minutes: number;
  /** Read requests per second in all (steady, open loop up to a bound in flight), pipelined ones included. */
  readRps: number;
  /** Of those, sent pipelined on raw sockets (bursts of `pipelineDepth` on one of `pipelinedConnections`). */
  pipelinedRps: number;
  pipelinedConnections: number;
  pipelineDepth: number;
  /** Writes started per second. */
  writeRps: number;
  readProcesses: number;
  /** Todos seeded before traffic starts. */
  seed: number;
  partitions: number;
  /** Where the JSON and Markdown summaries go. */
  resultsDir: string;
}

export const USAGE = `npm run soak -- [--minutes 10] [--read-rps 2000] [--pipelined-rps 600] [--pipelined-connections 4] [--pipeline-depth 8] [--write-rps 250] [--read-processes 2] [--seed 2000] [--partitions 6] [--results results]`;

function positive(name: string, raw: string | undefined, fallback: number, zero = false): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zero))
    throw new Error(
      `--${name} must be a ${zero ? "non-negative" : "positive"} number (got "${raw}")`,
    );
  return n;
}

export function parseSoakOptions(argv: readonly string[]): SoakOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: "string" },
      "read-rps": { type: "string" },
      "pipelined-rps": { type: "string" },
      "pipelined-connections": { type: "string" },
      "pipeline-depth": { type: "string" },
      "write-rps": { type: "string" },
      "read-processes": { type: "string" },
      seed: { type: "string" },
      partitions: { type: "string" },
      results: { type: "string" },
    },
  });
  const readRps = positive("read-rps", values["read-rps"], 2000);
  const pipelinedRps = positive("pipelined-rps", values["pipelined-rps"], 600, true);
  if (pipelinedRps > readRps)
    throw new Error(
      `--pipelined-rps (${pipelinedRps}) is part of --read-rps (${readRps}): it cannot be more`,
    );
  return {
    minutes: positive("minutes", values.minutes, 10),
    readRps,
    pipelinedRps,
    pipelinedConnections: Math.round(
      positive("pipelined-connections", values["pipelined-connections"], 4),
    ),
    pipelineDepth: Math.round(positive("pipeline-depth", values["pipeline-depth"], 8)),
    writeRps: positive("write-rps", values["write-rps"], 250),
    readProcesses: Math.round(positive("read-processes", values["read-processes"], 2)),
    seed: Math.round(positive("seed", values.seed, 2000)),
    partitions: Math.round(positive("partitions", values.partitions, 6)),
    resultsDir: values.results ?? "results",
  };
}
