import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../bundle-targets";

/**
 * Package boundaries, checked on the source: every workspace imports another only
 * through its package name, declares every one it imports (production code, under
 * `src/`, only in "dependencies"), and never reaches into another's folder by a
 * relative path.
 */
const rootManifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
  workspaces: string[];
};
const WORKSPACES = rootManifest.workspaces;
const SKIP = new Set(["node_modules", "dist", "cdk.out"]);
const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)"([^"]+)"/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.(ts|mts|cts)$/.test(e.name) ? [path] : [];
  });
}

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function manifest(workspace: string): Manifest {
  return JSON.parse(readFileSync(join(repoRoot, workspace, "package.json"), "utf8")) as Manifest;
}

/** Problems in one workspace, as `file: what` lines. */
function problems(workspace: string): string[] {
  const m = manifest(workspace);
  const deps = new Set(Object.keys(m.dependencies ?? {}));
  const devDeps = new Set(Object.keys(m.devDependencies ?? {}));
  const home = join(repoRoot, workspace);
  const out: string[] = [];
  for (const file of sources(home)) {
    const rel = relative(repoRoot, file);
    const production = relative(home, file).startsWith("src/");
    for (const [, spec] of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
      if (spec === undefined) continue;
      if (spec.startsWith(".")) {
        const target = relative(repoRoot, resolve(dirname(file), spec));
        const owner = WORKSPACES.find((w) => target === w || target.startsWith(`${w}/`));
        if (owner !== undefined && owner !== workspace)
          out.push(`${rel}: reaches into ${owner}/ by a relative path (${spec})`);
        continue;
      }
      const pkg = spec.match(/^@million-rps\/[^/]+/)?.[0];
      if (pkg === undefined || pkg === m.name) continue;
      if (production && !deps.has(pkg)) out.push(`${rel}: ${pkg} is not in "dependencies"`);
      else if (!deps.has(pkg) && !devDeps.has(pkg)) out.push(`${rel}: ${pkg} is not declared`);
    }
  }
  return out;
}

describe("workspace imports", () => {
  it.each(WORKSPACES)("%s declares every workspace it imports, and imports it by name", (ws) => {
    expect(problems(ws)).toEqual([]);
  });

  it("finds the imports it checks", () => {
    // A guard against a pattern that silently matches nothing.
    expect(problems("read-fleet")).toEqual([]);
    const files = sources(join(repoRoot, "read-fleet", "src"));
    const named = files.flatMap((f) =>
      [...readFileSync(f, "utf8").matchAll(SPECIFIER)].map((m) => m[1]),
    );
    expect(named).toContain("@million-rps/shared");
    expect(named.some((s) => s?.startsWith("./"))).toBe(true);
  });
});
