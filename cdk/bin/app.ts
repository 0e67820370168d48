/**
 * The CDK app: `npx cdk synth` (offline, no Docker) or `npx cdk deploy`.
 * Sizes come from context: `-c profile=million`, `-c readMaxTasks=20`, ...
 * (see cdk/DEPLOY.md). cdk-nag's AwsSolutions checks run on every synth.
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { deployEnvironment } from "../src/environment";
import { MillionRpsStack } from "../src/million-rps-stack";
import { applySuppressions } from "../src/nag";
import { readSettings, type Settings } from "../src/settings";
import { SizingError } from "../src/sizing";

const app = new App();
let settings: Settings;
let env: { account: string; region: string };
try {
  settings = readSettings((key) => app.node.tryGetContext(key));
  env = deployEnvironment((key) => app.node.tryGetContext(key));
} catch (err) {
  // A bad -c value is the user's to fix: say which, without a stack trace.
  if (!(err instanceof SizingError)) throw err;
  console.error(`million-rps: ${err.message}`);
  process.exit(1);
}
const stack = new MillionRpsStack(app, app.node.tryGetContext("stackName") ?? "MillionRps", {
  settings,
  description: `million-rps Todo API (${settings.sizing.profile} profile)`,
  // The CLI's account and region; without credentials the stand-in committed in cdk.json
  // (three AZs and the lookups a deploy makes), so offline templates have the deployed shape.
  env: { account: env.account, region: env.region },
});
applySuppressions(stack);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
