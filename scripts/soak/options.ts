import { parseArgs } from "node:util";

/** What `npm run soak -- ...` may set; every number has a default suited to a shared 2-core box. */
export interface SoakOptions {
  minutes: number;
  /** Read requests started per second (steady, open loop up to `maxInFlight`). */
  readRps: number;
  /** Writes started per second. */
  writeRps: number;
  readWorkers: number;
  /** Todos seeded before traffic starts. */
  seed: number;
  partitions: number;
  /** Where the JSON and Markdown summaries go. */
  resultsDir: string;
}

export const USAGE = `npm run soak -- [--minutes 10] [--read-rps 120] [--write-rps 25] [--read-workers 2] [--seed 2000] [--results results]`;

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`--${name} must be a positive number (got "${raw}")`);
  return n;
}

export function parseSoakOptions(argv: readonly string[]): SoakOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: "string" },
      "read-rps": { type: "string" },
      "write-rps": { type: "string" },
      "read-workers": { type: "string" },
      seed: { type: "string" },
      partitions: { type: "string" },
      results: { type: "string" },
    },
  });
  return {
    minutes: positive("minutes", values.minutes, 10),
    readRps: positive("read-rps", values["read-rps"], 120),
    writeRps: positive("write-rps", values["write-rps"], 25),
    readWorkers: Math.round(positive("read-workers", values["read-workers"], 2)),
    seed: Math.round(positive("seed", values.seed, 2000)),
    partitions: Math.round(positive("partitions", values.partitions, 6)),
    resultsDir: values.results ?? "results",
  };
}
