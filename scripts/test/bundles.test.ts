import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { bundleOptions, repoRoot, TARGETS } from "../bundle-targets";

/**
 * The files (repo-relative, node_modules included) a bundle of `source` takes in,
 * built with `target`'s options as scripts/bundle.ts builds it.
 */
async function bundleInputs(target: string, source: string): Promise<string[]> {
  const t = TARGETS[target];
  if (t === undefined) throw new Error(`no bundle target ${target}`);
  const result = await build({
    ...bundleOptions(t, join(repoRoot, "dist", "bundle-test")),
    entryPoints: { entry: source },
    write: false,
    metafile: true,
    minify: false,
    sourcemap: false,
  });
  return Object.keys(result.metafile.inputs);
}

const harness = (inputs: string[]) => inputs.filter((f) => f.startsWith("local/"));

describe("container bundles", () => {
  it("the read fleet's bundle contains no kafkajs (nor the AWS SDK's Kafka client)", async () => {
    const inputs = await bundleInputs("read-fleet", TARGETS["read-fleet"]?.entries.main ?? "");
    expect(inputs.some((f) => f.startsWith("read-fleet/src/"))).toBe(true);
    expect(
      inputs.filter((f) => /node_modules\/(kafkajs|@aws-sdk\/client-kafka)\//.test(f)),
    ).toEqual([]);
  }, 60_000);

  it("the topics task's bundle contains no harness code", async () => {
    const inputs = await bundleInputs("worker", TARGETS.worker?.entries.topics ?? "");
    expect(inputs).toContain("shared/src/topics.ts");
    expect(harness(inputs)).toEqual([]);
  }, 60_000);

  it.each(["scripts/migrate.ts", "scripts/seed.ts"])(
    "%s (run against RDS too) takes in no harness code",
    async (source) => {
      expect(harness(await bundleInputs("worker", source))).toEqual([]);
    },
    60_000,
  );
});
