import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll } from "vitest";
import { deployEnvironment } from "../../src/environment";
import { REPO_ROOT } from "../../src/images";
import { MillionRpsStack } from "../../src/million-rps-stack";
import { applySuppressions } from "../../src/nag";
import { readSettings } from "../../src/settings";

/** cdk.json's context: the stand-in account and region, and their committed lookups. */
export const COMMITTED_CONTEXT = (
  JSON.parse(readFileSync(`${REPO_ROOT}/cdk/cdk.json`, "utf8")) as {
    context: Record<string, unknown>;
  }
).context;

export interface BuildOptions {
  /** Run esbuild for the Lambdas (slow); template assertions do not need the code. */
  bundle?: boolean;
}

/** Builds the stack from context exactly as `bin/app.ts` does, into a private outdir. */
export function buildStack(
  context: Record<string, unknown> = {},
  options: BuildOptions = {},
): MillionRpsStack {
  const outdir = mkdtempSync(join(tmpdir(), "mrps-cdk-"));
  // Bundles and image contexts land here: gone when the test file is done.
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));
  const app = new App({
    outdir,
    // CDK's built-in template validation costs seconds per synth; `cdk synth` and
    // cdk/scripts/lint-templates.sh (cfn-lint) keep it, these assertions do not need it.
    builtinCloudFormationValidation: false,
    context: {
      ...COMMITTED_CONTEXT,
      ...context,
      ...(options.bundle ? {} : { "aws:cdk:bundling-stacks": [] }),
    },
  });
  const get = (key: string) => app.node.tryGetContext(key);
  const settings = readSettings(get);
  // As bin/app.ts without credentials: the committed stand-in environment, never agnostic.
  const { account, region } = deployEnvironment(get, {});
  const stack = new MillionRpsStack(app, "MillionRps", { settings, env: { account, region } });
  applySuppressions(stack);
  return stack;
}

export function synthStack(
  context: Record<string, unknown> = {},
  options: BuildOptions = {},
): { stack: MillionRpsStack; template: Template } {
  const stack = buildStack(context, options);
  return { stack, template: Template.fromStack(stack) };
}

export interface NagFinding {
  rule: string;
  severity: string;
  paths: string[];
}

/** cdk-nag AwsSolutions findings (errors and warnings) left after the acknowledgements, edge stack included. */
export function nagFindings(stack: MillionRpsStack): NagFinding[] {
  const scopes = stack.edge === undefined ? [stack] : [stack, stack.edge];
  const violations = scopes.flatMap((s) => new AwsSolutionsChecks().validateScope(s).violations);
  return violations.map((v) => ({
    rule: v.ruleName,
    severity: v.severity ?? "error",
    paths: v.violatingResources.map((r) => r.constructPath ?? "?"),
  }));
}

type Resources = Record<
  string,
  { Type: string; Properties?: Record<string, unknown> } & Record<string, unknown>
>;

/** The template's resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The one resource of `type` whose logical id starts with `prefix`. */
export function resourceNamed(
  template: Template,
  type: string,
  prefix: string,
): { id: string; props: Record<string, unknown> } {
  const found = Object.entries(resourcesOf(template, type)).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) {
    throw new Error(
      `expected one ${type} named ${prefix}*, found ${found.map(([id]) => id).join(", ") || "none"}`,
    );
  }
  const [id, resource] = found[0] as [string, Resources[string]];
  return { id, props: resource.Properties ?? {} };
}
