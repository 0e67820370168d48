import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, whatever the current directory. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Git-ignored home of every private service instance: `.data/<profile>/<service>`. */
export function dataDir(...parts: string[]): string {
  const dir = join(process.env.MRPS_DATA_DIR ?? join(repoRoot, ".data"), ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
