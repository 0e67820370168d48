/**
 * What `cdk synth` produces besides the template, with bundling on: esbuild
 * runs locally (this machine has no Docker engine, so any attempt to use
 * Docker would fail the synth), the write handlers fit the 1 MB budget, and
 * the container images are recorded, not built.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { App } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { synthStack } from "./support/synth";

const { stack } = synthStack({}, { bundle: true });
const assembly = (stack.node.root as App).synth();
const artifact = assembly.getStackByName(stack.stackName);
/** The stack's asset manifest: what `cdk deploy` uploads (files) and builds (images). */
const manifest = JSON.parse(
  readFileSync(join(assembly.directory, `${stack.artifactId}.assets.json`), "utf8"),
) as {
  files: Record<string, { source: { path: string; packaging: string } }>;
  dockerImages: Record<
    string,
    { source: { directory: string; dockerFile: string; platform: string } }
  >;
};

describe("synth assets", () => {
  it("records the read fleet and worker images for linux/arm64 from the repo root", () => {
    const images = Object.values(manifest.dockerImages)
      .map((a) => `${a.source.dockerFile} ${a.source.platform}`)
      .sort();
    expect(images).toEqual([
      "cdk/migrate/Dockerfile linux/arm64",
      "read-fleet/Dockerfile linux/arm64",
      "worker/Dockerfile linux/arm64",
    ]);
  });

  it("gives the migrate image its Dockerfile and the roles step, and no other part of this app", () => {
    const context = Object.values(manifest.dockerImages).find(
      (a) => a.source.dockerFile === "cdk/migrate/Dockerfile",
    );
    const dir = join(assembly.directory, context?.source.directory ?? "missing");
    for (const present of [
      "cdk/migrate/Dockerfile",
      "cdk/migrate/db-roles.ts",
      "scripts/migrate.ts",
    ]) {
      expect(statSync(join(dir, present)).isFile(), present).toBe(true);
    }
    for (const absent of ["cdk/src", "cdk/test", "node_modules"]) {
      expect(() => statSync(join(dir, absent)), absent).toThrow();
    }
  });

  it("keeps node_modules, data, docs and this app out of the image build context", () => {
    const context = Object.values(manifest.dockerImages).find(
      (a) => a.source.dockerFile === "read-fleet/Dockerfile",
    );
    const dir = join(assembly.directory, context?.source.directory ?? "missing");
    expect(statSync(join(dir, "package-lock.json")).isFile()).toBe(true);
    expect(statSync(join(dir, "shared")).isDirectory()).toBe(true);
    expect(statSync(join(dir, "cdk", "package.json")).isFile()).toBe(true);
    for (const absent of ["node_modules", ".data", ".git", "cdk/src", "README.md"]) {
      expect(() => statSync(join(dir, absent)), absent).toThrow();
    }
  });

  it("bundles every Lambda locally into one ESM file; write handlers stay under 1 MB", () => {
    const resources = artifact.template.Resources as Record<
      string,
      { Type: string; Properties: { Code?: { S3Key?: unknown } } }
    >;
    const ours = Object.entries(resources)
      .filter(
        ([id, r]) => r.Type === "AWS::Lambda::Function" && /^(WriteApi|Steps(Start|Wait))/.test(id),
      )
      .map(([id, r]) => {
        const hash = String(r.Properties.Code?.S3Key).replace(/\.zip$/, "");
        return {
          id,
          dir: join(assembly.directory, manifest.files[hash]?.source.path ?? "missing"),
        };
      });
    expect(ours).toHaveLength(5);
    for (const f of ours) {
      const size = statSync(join(f.dir, "index.mjs")).size;
      expect(size, f.id).toBeGreaterThan(1_000);
      if (f.id.startsWith("WriteApi")) expect(size, f.id).toBeLessThan(1024 * 1024);
    }
  });
});
