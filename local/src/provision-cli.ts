/**
 * Installs the system packages one purpose needs, from the same list `npm start` and
 * `npm test` use (local/src/prerequisites.ts). `.ci/run` calls it after `npm ci`:
 *
 *   npx tsx local/src/provision-cli.ts --for ci          # everything CI runs
 *   npx tsx local/src/provision-cli.ts --for bench --dry-run
 *
 * Exits 0 when everything required is there (or now installed), 1 with the exact
 * command to run when it cannot install it, 2 on a usage mistake.
 */
import { parseArgs } from "node:util";
import { StartupError } from "./errors";
import { PURPOSES, type Purpose } from "./prerequisites";
import { provision } from "./provision";

const { values } = parseArgs({
  options: {
    for: { type: "string", default: "ci" },
    "dry-run": { type: "boolean", default: false },
  },
});
const purpose = values.for as Purpose;
if (!PURPOSES.includes(purpose)) {
  console.error(`--for must be one of ${PURPOSES.join(", ")}, not "${values.for}"`);
  process.exit(2);
}

try {
  await provision({
    purpose,
    privateServices: ["postgres", "redis", "kafka"],
    say: (m) => console.log(m),
    // CI starts on a fresh machine: whatever Debian started on install is not ours to keep.
    quietPreinstalled: purpose === "ci",
    dryRun: values["dry-run"],
  });
} catch (err) {
  if (!(err instanceof StartupError)) throw err;
  console.error(`✗ ${err.message}\n  ${err.nextStep}`);
  process.exit(1);
}
