/**
 * The container bundles (scripts/bundle.ts builds them; scripts/test/bundles.test.ts
 * checks what each one takes in): one ESM file per entry point, dependencies
 * inlined except native ones.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ESM_REQUIRE_BANNER } from "@million-rps/shared/esm-require-banner";
import type { BuildOptions } from "esbuild";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface BundleTarget {
  entries: Record<string, string>;
  external: string[];
  /** Files copied beside the bundle: [from, to], relative to the repo and the target's folder. */
  copy?: [string, string][];
}

export const TARGETS: Record<string, BundleTarget> = {
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
    entries: { main: "write-lambdas/src/adapter/main.ts" },
    external: [],
  },
};

/** esbuild's options for a target, writing into `outdir`. */
export function bundleOptions(target: BundleTarget, outdir: string): BuildOptions {
  return {
    absWorkingDir: repoRoot,
    entryPoints: target.entries,
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    // The images run Node 24 LTS.
    target: "node24",
    format: "esm",
    minify: true,
    sourcemap: "linked",
    external: [...target.external, "pg-native"],
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: "warning",
  };
}
