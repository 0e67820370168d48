import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { bundleOptions, repoRoot, TARGETS } from "../bundle-targets";

/** The files (repo-relative, node_modules included) one entry's bundle takes in, as scripts/bundle.ts builds it. */
async function bundleInputs(target: string, entry: string): Promise<string[]> {
  const t = TARGETS[target];
  const source = t?.entries[entry];
  if (t === undefined || source === undefined) throw new Error(`no entry ${target}/${entry}`);
  const result = await build({
    ...bundleOptions(t, join(repoRoot, "dist", "bundle-test")),
    entryPoints: { [entry]: source },
    write: false,
    metafile: true,
    minify: false,
    sourcemap: false,
  });
  return Object.keys(result.metafile.inputs);
}

describe("container bundles", () => {
  it("the read fleet's bundle contains no kafkajs (nor the AWS SDK's Kafka client)", async () => {
    const inputs = await bundleInputs("read-fleet", "main");
    expect(inputs.some((f) => f.startsWith("read-fleet/src/"))).toBe(true);
    expect(
      inputs.filter((f) => /node_modules\/(kafkajs|@aws-sdk\/client-kafka)\//.test(f)),
    ).toEqual([]);
  }, 60_000);
});
