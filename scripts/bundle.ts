/**
 * Bundles a container deployable into `dist/<target>/` with esbuild (the targets and
 * options are in bundle-targets.ts). Used by the Dockerfiles.
 *
 *   npx tsx scripts/bundle.ts read-fleet|worker|write-api
 */
import { cpSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { bundleOptions, repoRoot, TARGETS } from "./bundle-targets";

const name = process.argv[2] ?? "";
const target = TARGETS[name];
if (target === undefined) {
  console.error(`usage: tsx scripts/bundle.ts <${Object.keys(TARGETS).join("|")}>`);
  process.exit(2);
}

const out = join(repoRoot, "dist", name);
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "dist"), { recursive: true });
await build(bundleOptions(target, join(out, "dist")));
for (const [from, to] of target.copy ?? [])
  cpSync(join(repoRoot, from), join(out, to), { recursive: true });
for (const entry of Object.keys(target.entries)) {
  const size = statSync(join(out, "dist", `${entry}.mjs`)).size;
  console.log(`dist/${name}/dist/${entry}.mjs  ${(size / 1024).toFixed(0)} KiB`);
}
