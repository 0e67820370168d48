import { StartupError } from "./errors";
import { ENDPOINT_VARIABLE, type Need } from "./prerequisites";

/**
 * What to do about missing prerequisites, decided without touching the system:
 * install them with apt-get (as root, or through passwordless sudo), or say exactly
 * what to run and stop. Pure, so every case is unit-tested.
 */

/** The variable that turns automatic installs off, for people who manage their own packages and services. */
export const INSTALL_VARIABLE = "MRPS_INSTALL_PACKAGES";

/** How this process may install packages: it is root, or `sudo -n` works, or neither. */
export type Privilege = "root" | "sudo" | "none";

export type ManualReason = "opted-out" | "no-apt-get" | "no-privilege";

export type ProvisionPlan =
  | { action: "nothing" }
  | {
      action: "install";
      via: "root" | "sudo";
      packages: string[];
      /** Run in order; argv arrays. */
      commands: string[][];
      /** Packaged system services to stop and disable once installed (the harness runs its own). */
      quiet: string[];
      needs: Need[];
    }
  | {
      action: "manual";
      reason: ManualReason;
      /** True when something required is missing: the command cannot go on. */
      blocking: boolean;
      /** What to tell the user, naming the exact command to run. */
      advice: string;
      needs: Need[];
    };

export interface PlanInput {
  missing: readonly Need[];
  privilege: Privilege;
  hasAptGet: boolean;
  installAllowed: boolean;
}

/** `1` (or unset) installs what is missing, `0` never does; anything else is a mistake worth stopping for. */
export function parseInstallSetting(raw: string | undefined): boolean {
  const value = (raw ?? "").trim().toLowerCase();
  if (["", "1", "yes", "true"].includes(value)) return true;
  if (["0", "no", "false"].includes(value)) return false;
  throw new StartupError(
    `${INSTALL_VARIABLE} must be 1 or 0, not "${raw}"`,
    `Set ${INSTALL_VARIABLE}=1 to install missing system packages (the default) or ${INSTALL_VARIABLE}=0 to only be told what to install.`,
  );
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** The command a person types to install `packages` (sudo unless root). */
export function manualInstallCommand(packages: readonly string[], privilege: Privilege): string {
  return `${privilege === "root" ? "" : "sudo "}apt-get install -y ${packages.join(" ")}`;
}

function listing(needs: readonly Need[]): string {
  return needs
    .map((n) => `${n.prerequisite.what} (${n.prerequisite.why}${n.required ? "" : "; optional"})`)
    .join(", ");
}

function endpointHint(needs: readonly Need[]): string {
  const vars = unique(
    needs.flatMap((n) =>
      n.required && n.prerequisite.service !== undefined
        ? [ENDPOINT_VARIABLE[n.prerequisite.service]]
        : [],
    ),
  );
  return vars.length === 0
    ? ""
    : ` Or point ${vars.join(" / ")} at services you already run: then they need none of this.`;
}

export function planProvisioning(input: PlanInput): ProvisionPlan {
  const needs = [...input.missing];
  if (needs.length === 0) return { action: "nothing" };
  const packages = unique(needs.map((n) => n.prerequisite.debianPackage));
  const blocking = needs.some((n) => n.required);
  const command = manualInstallCommand(packages, input.privilege);
  const manual = (reason: ManualReason, advice: string): ProvisionPlan => ({
    action: "manual",
    reason,
    blocking,
    advice: `${advice}${endpointHint(needs)}`,
    needs,
  });
  if (!input.installAllowed) {
    return manual(
      "opted-out",
      `Missing: ${listing(needs)}. ${INSTALL_VARIABLE}=0 is set, so nothing is installed for you. Install them with \`${command}\`.`,
    );
  }
  if (!input.hasAptGet) {
    return manual(
      "no-apt-get",
      `Missing: ${listing(needs)}. This system has no apt-get, so they cannot be installed for you: install them with its package manager (Debian names: ${packages.join(" ")}).`,
    );
  }
  if (input.privilege === "none") {
    return manual(
      "no-privilege",
      `Missing: ${listing(needs)}. Installing system packages needs root, and sudo is not there or asks for a password: run \`${command}\` yourself, then run this command again.`,
    );
  }
  const prefix = input.privilege === "sudo" ? ["sudo", "-n"] : [];
  // Another apt run holding the lock (an unattended upgrade, a second harness): wait, not fail.
  const apt = [
    ...prefix,
    "env",
    "DEBIAN_FRONTEND=noninteractive",
    "apt-get",
    "-o",
    "DPkg::Lock::Timeout=300",
  ];
  return {
    action: "install",
    via: input.privilege,
    packages,
    commands: [
      [...apt, "update", "-qq"],
      [...apt, "install", "-y", "-qq", "--no-install-recommends", ...packages],
    ],
    quiet: unique(needs.flatMap((n) => n.prerequisite.packagedService ?? [])),
    needs,
  };
}

/** "installing redis-server and wrk with apt-get as root: redis-server for ...; wrk for ..." */
export function describeInstall(plan: Extract<ProvisionPlan, { action: "install" }>): string {
  const how = plan.via === "root" ? "as root" : "through sudo";
  const why = plan.needs.map((n) => `${n.prerequisite.debianPackage} for ${n.prerequisite.why}`);
  return `installing ${plan.packages.join(", ")} with apt-get ${how}: ${why.join("; ")}`;
}
