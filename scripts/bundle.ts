/**
 * Bundles a container deployable into `dist/<target>/` with esbuild: one ESM file
 * per entry point, dependencies inlined except native ones. Used by the Dockerfiles.
 *
 *   npx tsx scripts/bundle.ts read-fleet|worker|write-api
 */
import { cpSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "@million-rps/local";
import { build } from "esbuild";

const TARGETS: Record<
  string,
  { entries: Record<string, string>; external: string[]; copy?: [string, string][] }
> = {
  "read-fleet": {
    entries: { main: "read-fleet/src/main.ts" },
    // uWS is a native addon: shipped beside the bundle, never inlined (the image ships the
    // current build; the legacy one is only for Debian 12 hosts).
    external: ["uWebSockets.js", "uwebsockets-current"],
    // Served at /openapi.yaml; the Dockerfile points OPENAPI_PATH at it.
    copy: [["shared/openapi.yaml", "openapi.yaml"]],
  },
  worker: {
    entries: {
      main: "worker/src/main.ts",
      migrate: "scripts/migrate.ts",
      topics: "scripts/topics.ts",
    },
    external: [],
    // migrations.ts resolves ../migrations from the bundle's folder.
    copy: [["shared/migrations", "migrations"]],
  },
  // The Lambda handlers behind their local HTTP adapter, for docker compose.
  "write-api": {
    entries: { main: "write-lambdas/src/local/main.ts" },
    external: [],
  },
};

const name = process.argv[2] ?? "";
const target = TARGETS[name];
if (target === undefined) {
  console.error(`usage: tsx scripts/bundle.ts <${Object.keys(TARGETS).join("|")}>`);
  process.exit(2);
}

const out = join(repoRoot, "dist", name);
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "dist"), { recursive: true });
await build({
  absWorkingDir: repoRoot,
  entryPoints: target.entries,
  outdir: join(out, "dist"),
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  // The images run Node 24 LTS.
  target: "node24",
  format: "esm",
  minify: true,
  sourcemap: "linked",
  external: [...target.external, "pg-native"],
  // CommonJS dependencies (pg, ioredis, kafkajs) call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: "warning",
});
for (const [from, to] of target.copy ?? [])
  cpSync(join(repoRoot, from), join(out, to), { recursive: true });
for (const entry of Object.keys(target.entries)) {
  const size = statSync(join(out, "dist", `${entry}.mjs`)).size;
  console.log(`dist/${name}/dist/${entry}.mjs  ${(size / 1024).toFixed(0)} KiB`);
}
