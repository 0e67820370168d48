import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { IgnoreMode } from "aws-cdk-lib";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";

/** The repository root: the Docker build context and the esbuild project root. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Paths the images never need, on top of the root `.dockerignore` (which CDK
 * reads): keeping them out of the asset hash means editing docs, tests or
 * this CDK app does not rebuild the images or re-run the migration task.
 */
const NOT_IN_IMAGES = [
  "**/test",
  "**/*.md",
  ".ci",
  ".venv",
  "**/__pycache__",
  "coverage",
  "cdk/*",
  "!cdk/package.json",
];

/**
 * A container image built by `cdk deploy` from a Dockerfile in the repo, for
 * Graviton. Synth only records the asset; building it is the deploy step's job.
 */
export function repoImage(dockerfile: string, alsoInclude: string[] = []): ecs.ContainerImage {
  return ecs.ContainerImage.fromAsset(REPO_ROOT, {
    file: dockerfile,
    platform: Platform.LINUX_ARM64,
    ignoreMode: IgnoreMode.DOCKER,
    exclude: [...NOT_IN_IMAGES, ...alsoInclude.map((p) => `!${p}`)],
  });
}

/** The migrate step's image: migrations, then the database roles (cdk/migrate). */
export function migrateImage(): ecs.ContainerImage {
  return repoImage("cdk/migrate/Dockerfile", ["cdk/migrate"]);
}

/** Paths of the write handlers: one entry file per route. */
export const WRITE_HANDLERS = {
  create: join(REPO_ROOT, "write-lambdas/src/handlers/create-todo.ts"),
  update: join(REPO_ROOT, "write-lambdas/src/handlers/update-todo.ts"),
  delete: join(REPO_ROOT, "write-lambdas/src/handlers/delete-todo.ts"),
} as const;
