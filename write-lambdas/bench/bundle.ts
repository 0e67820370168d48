/**
 * Bundles each write handler as CDK's NodejsFunction does (cdk/src/bundling.ts:
 * esbuild, minified ESM, every dependency inlined, target node24 (the Lambda runtime), createRequire
 * banner), then records each bundle's size and its module-init time: a fresh Node
 * process timing `await import(bundle)`, the part of a Lambda cold start that is ours.
 *
 *   npm run bundle:lambdas                 # or: npx tsx write-lambdas/bench/bundle.ts [--runs 9]
 */
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import {
  type BenchFigure,
  loadAverageFigure,
  quantile,
  repoRoot,
  reportFigures,
} from "@million-rps/local";
import { ESM_REQUIRE_BANNER } from "@million-rps/shared/esm-require-banner";
import { build } from "esbuild";

const HANDLERS = ["create-todo", "update-todo", "delete-todo"] as const;
const SIZE_TARGET = 1024 * 1024;
const INIT_TARGET_MS = 150;

const { values } = parseArgs({ options: { runs: { type: "string", default: "9" } } });
const runs = Number(values.runs);
const outRoot = join(repoRoot, "write-lambdas", "dist");

async function bundle(name: string): Promise<string> {
  const outfile = join(outRoot, name, "index.mjs");
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [join(repoRoot, "write-lambdas", "src", "handlers", `${name}.ts`)],
    outfile,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    minify: true,
    sourcemap: true,
    mainFields: ["module", "main"],
    external: [],
    banner: { js: ESM_REQUIRE_BANNER },
    metafile: true,
    logLevel: "warning",
  });
  const inputs = Object.entries(
    result.metafile.outputs[
      Object.keys(result.metafile.outputs).find((k) => k.endsWith(".mjs")) ?? ""
    ]?.inputs ?? {},
  );
  const byPackage = new Map<string, number>();
  for (const [path, { bytesInOutput }] of inputs) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = m?.[1] ?? (path.includes("shared/") ? "@million-rps/shared" : "write-lambdas");
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 6);
  process.stdout.write(
    `${name}: ${top.map(([k, v]) => `${k} ${(v / 1024).toFixed(0)} KiB`).join(", ")}\n`,
  );
  return outfile;
}

/** Module init of the bundle in a fresh process, as Lambda's init phase imports it. */
/** Wall time of the import, and the process CPU time it took (steadier on a busy machine). */
function initMs(file: string, sourceMaps: boolean): { wall: number; cpu: number } {
  const script = [
    "const c0 = process.cpuUsage(); const t0 = performance.now();",
    `await import(${JSON.stringify(`file://${file}`)});`,
    "const wall = performance.now() - t0; const c = process.cpuUsage(c0);",
    "process.stdout.write(JSON.stringify({ wall, cpu: (c.user + c.system) / 1000 }));",
  ].join(" ");
  const out = execFileSync(
    process.execPath,
    [...(sourceMaps ? ["--enable-source-maps"] : []), "--input-type=module", "-e", script],
    {
      env: {
        PATH: process.env.PATH,
        // What CDK sets (minus the Secrets Manager ARN, fetched on the first request, not at init).
        JWT_SECRET: "bench-only-fake-secret-0123456789abcdef",
        KAFKA_BROKERS: "127.0.0.1:9",
        KAFKA_TODO_TOPIC: "todo-commands",
        LOG_LEVEL: "info",
      },
    },
  );
  return JSON.parse(out.toString()) as { wall: number; cpu: number };
}

function median(values: number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

const rows: BenchFigure[] = [];
const details: Record<string, unknown> = { node: process.version, runs };
for (const name of HANDLERS) {
  const file = await bundle(name);
  const bytes = statSync(file).size;
  const gz = gzipSync(readFileSync(file)).byteLength;
  const plain: { wall: number; cpu: number }[] = [];
  const mapped: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < runs; i++) {
    plain.push(initMs(file, false));
    mapped.push(initMs(file, true));
  }
  details[name] = { bytes, gzip: gz, init: plain, init_source_maps: mapped };
  rows.push({
    figure: `${name} bundle (minified)`,
    value: `${(bytes / 1024).toFixed(0)} KiB (${(gz / 1024).toFixed(0)} KiB gzip)`,
    target: "<= 1 MiB",
    ok: bytes <= SIZE_TARGET,
  });
  for (const [label, samples] of [
    ["module init", plain],
    ["module init, --enable-source-maps", mapped],
  ] as const) {
    const wall = median(samples.map((s) => s.wall));
    const cpu = median(samples.map((s) => s.cpu));
    const max = Math.max(...samples.map((s) => s.wall));
    rows.push({
      figure: `${name} ${label}: median wall / max wall / median CPU (${runs} runs)`,
      value: `${wall.toFixed(1)} / ${max.toFixed(1)} / ${cpu.toFixed(1)} ms`,
      target: `<= ${INIT_TARGET_MS} ms`,
      ok: wall <= INIT_TARGET_MS,
    });
  }
}
// Init times on a shared 2-core machine move with other processes.
rows.push(loadAverageFigure());
reportFigures({
  name: "write-lambdas-bundle",
  command: `npx tsx write-lambdas/bench/bundle.ts --runs ${runs}`,
  figures: rows,
  details,
});
