/**
 * Bundles each write handler as CDK's NodejsFunction does (cdk/src/bundling.ts:
 * esbuild, minified ESM, every dependency inlined, target node22, createRequire
 * banner), then records each bundle's size and its module-init time: a fresh Node
 * process timing `await import(bundle)`, the part of a Lambda cold start that is ours.
 *
 *   npm run bundle:lambdas                 # or: npx tsx write-lambdas/bench/bundle.ts [--runs 9]
 */
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { repoRoot } from "@million-rps/local";
import { build } from "esbuild";
import { quantile, type Row, report } from "./report";

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
    target: "node22",
    format: "esm",
    minify: true,
    sourcemap: true,
    mainFields: ["module", "main"],
    external: [],
    // CommonJS dependencies (kafkajs) call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
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
function initMs(file: string, sourceMaps: boolean): number {
  const script = `const t0 = performance.now(); await import(${JSON.stringify(`file://${file}`)}); process.stdout.write(String(performance.now() - t0));`;
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
  return Number(out.toString());
}

const rows: Row[] = [];
const details: Record<string, unknown> = { node: process.version, runs };
for (const name of HANDLERS) {
  const file = await bundle(name);
  const bytes = statSync(file).size;
  const gz = gzipSync(readFileSync(file)).byteLength;
  const plain: number[] = [];
  const mapped: number[] = [];
  for (let i = 0; i < runs; i++) {
    plain.push(initMs(file, false));
    mapped.push(initMs(file, true));
  }
  plain.sort((a, b) => a - b);
  mapped.sort((a, b) => a - b);
  const p50 = quantile(plain, 0.5);
  const p50Mapped = quantile(mapped, 0.5);
  details[name] = { bytes, gzip: gz, init_ms: plain, init_ms_source_maps: mapped };
  rows.push(
    {
      figure: `${name} bundle (minified)`,
      value: `${(bytes / 1024).toFixed(0)} KiB (${(gz / 1024).toFixed(0)} KiB gzip)`,
      target: "<= 1 MiB",
      ok: bytes <= SIZE_TARGET,
    },
    {
      figure: `${name} module init, median / max of ${runs}`,
      value: `${p50.toFixed(1)} / ${plain.at(-1)?.toFixed(1)} ms`,
      target: `<= ${INIT_TARGET_MS} ms`,
      ok: p50 <= INIT_TARGET_MS,
    },
    {
      figure: `${name} module init with --enable-source-maps`,
      value: `${p50Mapped.toFixed(1)} / ${mapped.at(-1)?.toFixed(1)} ms`,
      target: `<= ${INIT_TARGET_MS} ms`,
      ok: p50Mapped <= INIT_TARGET_MS,
    },
  );
}
// Init times on a shared 2-core machine move with other processes; the load says how busy it was.
const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(" ");
rows.push({ figure: "load average (1/5/15 min) after the run", value: load, target: "", ok: null });
report(
  "write-lambdas-bundle",
  `npx tsx write-lambdas/bench/bundle.ts --runs ${runs}`,
  rows,
  details,
);
