/** Benchmark knobs, from the environment (see bench.ts). */
function positive(name: string, fallback: number): number {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
}

export const settings = {
  seconds: positive("BENCH_SECONDS", 10),
  warmSeconds: positive("BENCH_WARM_SECONDS", 3),
  pipelineSeconds: positive("BENCH_PIPELINE_SECONDS", 60),
  pipelineDepth: 16,
  connections: positive("BENCH_CONNECTIONS", 64),
  todos: positive("BENCH_TODOS", 10_000),
  rounds: positive("BENCH_ROUNDS", 3),
  strict: process.env.BENCH_STRICT === "1",
  path: "/todos?limit=100",
  serverCpu: "0",
  wrkCpu: "1",
  keyPrefix: "todos",
} as const;

export const say = (msg: string) => console.log(`[bench] ${msg}`);
