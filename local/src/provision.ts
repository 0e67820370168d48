import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { lastLines, StartupError, StopRequested } from "./errors";
import { kafkaJarsCached } from "./kafka";
import { dataDir } from "./paths";
import { findPostgresBin } from "./postgres";
import {
  type Need,
  needsFor,
  PREREQUISITES,
  type Prerequisite,
  type Purpose,
  type ServiceName,
} from "./prerequisites";
import { run, which } from "./proc";
import {
  describeInstall,
  INSTALL_VARIABLE,
  manualInstallCommand,
  type Privilege,
  type ProvisionPlan,
  parseInstallSetting,
  planProvisioning,
} from "./provision-plan";
import type { Teardown } from "./teardown";

/**
 * Installs what is missing from PREREQUISITES for one command, following the plan of
 * provision-plan.ts: the effects (looking at the system, running apt-get, quieting
 * the services Debian starts on install) live here, the decisions there.
 */

const SEARCH_DIRS = ["/usr/bin", "/usr/local/bin", "/usr/sbin", "/usr/local/sbin", "/bin"];

export function isPresent(p: Prerequisite): boolean {
  switch (p.detect.kind) {
    case "binary":
      return which(p.detect.name, SEARCH_DIRS) !== null;
    case "postgres-server":
      return findPostgresBin() !== null;
    case "python-venv":
      return (
        spawnSync("python3", ["-c", "import ensurepip, venv"], { stdio: "ignore" }).status === 0
      );
  }
}

/** Root, or passwordless sudo (`sudo -n` never prompts), or neither. */
export function detectPrivilege(): Privilege {
  if (process.getuid?.() === 0) return "root";
  if (which("sudo") === null) return "none";
  const probe = spawnSync("sudo", ["-n", "true"], { stdio: "ignore", timeout: 10_000 });
  return probe.status === 0 ? "sudo" : "none";
}

export interface ProvisionOptions {
  purpose: Purpose;
  /** Services that will run privately here (a configured endpoint that answers needs no binary). */
  privateServices: readonly ServiceName[];
  say: (message: string) => void;
  /** When given, a stop waits for a running apt-get instead of leaving dpkg half done. */
  teardown?: Teardown;
  /** CI: also stop and disable packaged services that were installed before (nothing of the machine's own is in use there). */
  quietPreinstalled?: boolean;
  /** Print the plan, change nothing. */
  dryRun?: boolean;
}

export interface ProvisionResult {
  plan: ProvisionPlan;
  installed: string[];
}

/** Plans for what `options.purpose` needs right now, and carries the plan out. */
export async function provision(options: ProvisionOptions): Promise<ProvisionResult> {
  const installAllowed = parseInstallSetting(process.env[INSTALL_VARIABLE]);
  const needs = needsFor(options.purpose, {
    privateServices: options.privateServices,
    kafkaJarsCached: kafkaJarsCached(),
  });
  const missing = needs.filter((n) => !isPresent(n.prerequisite));
  const plan = planProvisioning({
    missing,
    // Asking sudo costs a process (and a log line in auth.log): only when something is missing.
    privilege: missing.length === 0 ? "none" : detectPrivilege(),
    hasAptGet: which("apt-get") !== null,
    installAllowed,
  });
  if (options.dryRun) {
    options.say(describePlan(plan));
    return { plan, installed: [] };
  }
  let installed: string[] = [];
  if (plan.action === "manual") {
    if (plan.blocking) {
      throw new StartupError(
        `missing system packages: ${plan.needs
          .filter((n) => n.required)
          .map((n) => n.prerequisite.debianPackage)
          .join(", ")}`,
        plan.advice,
      );
    }
    options.say(`note: ${plan.advice}`);
  } else if (plan.action === "install") {
    installed = await install(plan, options);
  }
  const quiet =
    options.quietPreinstalled && installAllowed
      ? PREREQUISITES.flatMap((p) => p.packagedService ?? [])
      : plan.action === "install"
        ? plan.quiet
        : [];
  if (quiet.length > 0) {
    const via = plan.action === "install" ? plan.via : detectPrivilege();
    if (via !== "none")
      for (const name of quiet) await quietPackagedService(name, via, options.say);
  }
  return { plan, installed };
}

export function describePlan(plan: ProvisionPlan): string {
  switch (plan.action) {
    case "nothing":
      return "system packages: everything needed is installed";
    case "install":
      return `would run: ${plan.commands.map((c) => c.join(" ")).join(" && ")}\n  (${describeInstall(plan)})`;
    case "manual":
      return `${plan.blocking ? "cannot go on" : "carrying on"}: ${plan.advice}`;
  }
}

async function install(
  plan: Extract<ProvisionPlan, { action: "install" }>,
  options: ProvisionOptions,
): Promise<string[]> {
  const logFile = join(dataDir(), "apt-get.log");
  options.say(describeInstall(plan));
  options.say(`this takes a minute or two; apt-get's output goes to ${logFile}`);
  const failures: string[] = [];
  for (const argv of plan.commands) {
    if (options.teardown?.requested) throw new StopRequested();
    const code = await runDetached(argv, logFile, options);
    if (code !== 0) failures.push(`${argv.join(" ")} exited with ${code}`);
  }
  const stillMissing = plan.needs.filter((n) => !isPresent(n.prerequisite));
  const blocking = stillMissing.filter((n) => n.required);
  if (blocking.length > 0) {
    const log = existsSync(logFile) ? lastLines(readFileSync(logFile, "utf8"), 4) : "";
    throw new StartupError(
      `apt-get could not install ${blocking.map((n) => n.prerequisite.debianPackage).join(", ")} (${failures.join("; ") || "it reported success, yet the binaries are not there"}): ${log}`,
      `Its whole output is in ${logFile}. Run \`${manualInstallCommand(
        blocking.map((n) => n.prerequisite.debianPackage),
        plan.via,
      )}\` yourself to see why, then start again.`,
    );
  }
  for (const n of stillMissing)
    options.say(`note: ${n.prerequisite.debianPackage} could not be installed (see ${logFile})`);
  const installed = plan.needs
    .filter((n: Need) => !stillMissing.includes(n))
    .map((n) => n.prerequisite.debianPackage);
  options.say(`installed ${installed.join(", ")}`);
  return installed;
}

/**
 * Runs one apt-get step in a process group of its own, so Ctrl-C in the terminal does
 * not cut dpkg off halfway (that can leave packages half configured); a stop waits for it.
 */
function runDetached(argv: string[], logFile: string, options: ProvisionOptions): Promise<number> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.resolve(0);
  const log = openSync(logFile, "a");
  const child = spawn(cmd, args, { stdio: ["ignore", log, log], detached: true });
  closeSync(log);
  const t0 = Date.now();
  const ticker = setInterval(
    () => options.say(`still installing (${Math.round((Date.now() - t0) / 1000)} s)`),
    20_000,
  );
  const done = new Promise<number>((resolvePromise) => {
    child.on("error", () => resolvePromise(127));
    child.on("close", (code) => resolvePromise(code ?? 1));
  }).finally(() => clearInterval(ticker));
  options.teardown?.add("apt-get", async () => {
    if (child.exitCode !== null || child.signalCode !== null) return [];
    options.say("waiting for apt-get to finish (stopping it halfway could leave packages broken)");
    await done;
    return ["apt-get (let finish)"];
  });
  return done;
}

/**
 * Stops and disables a service a Debian package started on install (postgresql,
 * redis-server): the harness runs private instances on other ports, and the packaged
 * ones would only hold ports and memory. Works with systemd and with plain init
 * scripts (containers); a failure is reported, never fatal.
 */
async function quietPackagedService(
  name: string,
  via: "root" | "sudo",
  say: (message: string) => void,
): Promise<void> {
  const prefix = via === "sudo" ? ["sudo", "-n"] : [];
  const exec = async (argv: string[]) => {
    const [cmd, ...args] = [...prefix, ...argv];
    if (cmd === undefined) return false;
    return (await run(cmd, args, { allowFail: true }).catch(() => ({ code: 1 }))).code === 0;
  };
  if (existsSync("/run/systemd/system")) {
    if (await exec(["systemctl", "disable", "--now", name]))
      say(
        `stopped and disabled the packaged ${name} service (the harness runs its own; \`systemctl enable --now ${name}\` brings it back)`,
      );
    return;
  }
  if (!existsSync(`/etc/init.d/${name}`)) return;
  await exec([`/etc/init.d/${name}`, "stop"]);
  if (which("update-rc.d", SEARCH_DIRS) !== null) await exec(["update-rc.d", name, "disable"]);
  say(
    `stopped the packaged ${name} service and kept it from starting at boot (the harness runs its own)`,
  );
}
