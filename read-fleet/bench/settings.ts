/** Benchmark knobs, from the environment (see bench.ts). */
function positive(name: string, fallback: number): number {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
}

function nonNegative(name: string, fallback: number): number {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 0)
    throw new Error(`${name} must be a whole number of ms, 0 or more`);
  return v;
}

/** A comma-separated list of positive numbers, e.g. "100,500,2000"; "none" for an empty list. */
function rates(name: string, fallback: string): readonly number[] {
  const text = process.env[name] ?? fallback;
  if (text.trim() === "none") return [];
  const list = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n <= 0))
    throw new Error(`${name} must be a comma-separated list of positive numbers (got "${text}")`);
  return [...new Set(list)].sort((a, b) => a - b);
}

function only(): "all" | "floor" | "world" {
  const v = (process.env.BENCH_ONLY ?? "").trim();
  if (v === "" || v === "all") return "all";
  if (v === "floor" || v === "world") return v;
  throw new Error(`BENCH_ONLY must be floor or world (got "${v}")`);
}

const rounds = positive("BENCH_ROUNDS", 3);

export const settings = {
  seconds: positive("BENCH_SECONDS", 10),
  warmSeconds: positive("BENCH_WARM_SECONDS", 3),
  pipelineSeconds: positive("BENCH_PIPELINE_SECONDS", 60),
  pipelineDepth: 16,
  connections: positive("BENCH_CONNECTIONS", 64),
  todos: positive("BENCH_TODOS", 10_000),
  rounds,
  strict: process.env.BENCH_STRICT === "1",
  path: "/todos?limit=100",
  serverCpu: "0",
  wrkCpu: "1",
  keyPrefix: "todos",
  /** floor: the cases where nothing changes (single processes, pinned); world: the whole native stack under writes. */
  only: only(),
  /** Whole-stack cases ("reads while the world changes"). */
  world: {
    /** Write rates of the steady stream beside GET /todos?limit=100 (0 is always measured). */
    writeRates: rates("BENCH_WRITE_RATES", "100,500,2000"),
    /** Write rates beside the random-id and random-page workloads (issue 19). */
    workloadRates: rates("BENCH_WORKLOAD_RATES", "100,500"),
    /** Rates of a stream of updates (PATCH) of the todos the random workloads read: what content invalidation is for. */
    updateRates: rates("BENCH_UPDATE_RATES", "100"),
    /** Alternating rounds of the rate cases (medians shown). */
    rounds: positive("BENCH_WORLD_ROUNDS", rounds),
    readProcesses: positive("BENCH_READ_PROCESSES", 2),
    /**
     * BENCH_WORLD_SPLIT=1: the read fleet, its controls and wrk on one CPU (wrkCpu), the
     * write path and this bench on the other (serverCpu), as on AWS (split-cpus.ts).
     */
    split: process.env.BENCH_WORLD_SPLIT === "1",
    /** Paced cases: each connection waits this long after an answer (0: no paced cases). */
    pacedDelayMs: nonNegative("BENCH_PACED_DELAY_MS", 2),
    partitions: positive("BENCH_PARTITIONS", 6),
    /** wrk threads of the whole-fleet cases (unpinned, sharing the box with the stack). */
    wrkThreads: 2,
    /** Distinct ids of the random by-id workload, and pages of the random walk. */
    byIdIds: 5_000,
    walkPages: 50,
    /** Writes per second beside the pipelined client, and the cold-start window. */
    pipelineWrites: positive("BENCH_PIPELINE_WRITES", 20),
    pipelineConnections: 16,
    coldSeconds: positive("BENCH_COLD_SECONDS", 10),
    /** Most writes waiting for an answer at once; beyond it the stream skips (and counts) writes. */
    maxWritesInFlight: positive("BENCH_WRITES_IN_FLIGHT", 64),
  },
} as const;

export const say = (msg: string) => console.log(`[bench] ${msg}`);
