import { describe, expect, it } from "vitest";
import { type Need, PREREQUISITES, type Prerequisite } from "../src/prerequisites";
import {
  describeInstall,
  INSTALL_VARIABLE,
  manualInstallCommand,
  type PlanInput,
  parseInstallSetting,
  planProvisioning,
} from "../src/provision-plan";

function prerequisite(id: string): Prerequisite {
  const found = PREREQUISITES.find((p) => p.id === id);
  if (found === undefined) throw new Error(`no prerequisite ${id}`);
  return found;
}
const need = (id: string, required = true): Need => ({ prerequisite: prerequisite(id), required });

const base: PlanInput = {
  missing: [need("redis"), need("wrk", false)],
  privilege: "root",
  hasAptGet: true,
  installAllowed: true,
};

describe("planProvisioning", () => {
  it("does nothing when nothing is missing", () => {
    expect(planProvisioning({ ...base, missing: [] })).toEqual({ action: "nothing" });
  });

  it("installs every missing package with one apt-get run as root, non-interactively", () => {
    const plan = planProvisioning(base);
    expect(plan).toMatchObject({
      action: "install",
      via: "root",
      packages: ["redis-server", "wrk"],
    });
    if (plan.action !== "install") throw new Error("unreachable");
    const apt = [
      "env",
      "DEBIAN_FRONTEND=noninteractive",
      "apt-get",
      "-o",
      "DPkg::Lock::Timeout=300",
    ];
    expect(plan.commands).toEqual([
      [...apt, "update", "-qq"],
      [...apt, "install", "-y", "-qq", "--no-install-recommends", "redis-server", "wrk"],
    ]);
    // The service Debian starts on install is quieted; wrk starts none.
    expect(plan.quiet).toEqual(["redis-server"]);
    expect(describeInstall(plan)).toMatch(
      /^installing redis-server, wrk with apt-get as root: redis-server for the private Redis/,
    );
  });

  it("goes through sudo -n when not root but sudo needs no password", () => {
    const plan = planProvisioning({ ...base, privilege: "sudo" });
    expect(plan).toMatchObject({ action: "install", via: "sudo" });
    if (plan.action !== "install") throw new Error("unreachable");
    for (const command of plan.commands) expect(command.slice(0, 2)).toEqual(["sudo", "-n"]);
  });

  it("names each package once, even when two needs share one", () => {
    const plan = planProvisioning({ ...base, missing: [need("redis"), need("redis")] });
    expect(plan).toMatchObject({ packages: ["redis-server"] });
  });

  it("without root or passwordless sudo, stops with the exact command to run", () => {
    const plan = planProvisioning({ ...base, privilege: "none" });
    expect(plan).toMatchObject({ action: "manual", reason: "no-privilege", blocking: true });
    if (plan.action !== "manual") throw new Error("unreachable");
    expect(plan.advice).toContain("`sudo apt-get install -y redis-server wrk`");
    // A missing service binary can also be avoided by pointing at a running service.
    expect(plan.advice).toContain("REDIS_URL");
  });

  it("opted out: installs nothing and says what to install (no sudo for root)", () => {
    const plan = planProvisioning({ ...base, installAllowed: false });
    expect(plan).toMatchObject({ action: "manual", reason: "opted-out", blocking: true });
    if (plan.action !== "manual") throw new Error("unreachable");
    expect(plan.advice).toContain(`${INSTALL_VARIABLE}=0 is set`);
    expect(plan.advice).toContain("`apt-get install -y redis-server wrk`");
  });

  it("opting out wins over having root", () => {
    expect(planProvisioning({ ...base, installAllowed: false, privilege: "root" })).toMatchObject({
      action: "manual",
      reason: "opted-out",
    });
  });

  it("without apt-get (macOS, other Linux) names what to install with the system's own tools", () => {
    const plan = planProvisioning({ ...base, hasAptGet: false });
    expect(plan).toMatchObject({ action: "manual", reason: "no-apt-get", blocking: true });
    if (plan.action !== "manual") throw new Error("unreachable");
    expect(plan.advice).toContain("redis-server");
    expect(plan.advice).toContain("package manager");
  });

  it("when only suggested packages are missing, carries on instead of stopping", () => {
    const plan = planProvisioning({ ...base, missing: [need("wrk", false)], privilege: "none" });
    expect(plan).toMatchObject({ action: "manual", blocking: false });
    if (plan.action !== "manual") throw new Error("unreachable");
    expect(plan.advice).not.toContain("_URL");
  });
});

describe("manualInstallCommand", () => {
  it("is what a person types: sudo unless root", () => {
    expect(manualInstallCommand(["maven"], "root")).toBe("apt-get install -y maven");
    expect(manualInstallCommand(["maven"], "sudo")).toBe("sudo apt-get install -y maven");
    expect(manualInstallCommand(["maven", "wrk"], "none")).toBe(
      "sudo apt-get install -y maven wrk",
    );
  });
});

describe(`${INSTALL_VARIABLE}`, () => {
  it("installs by default and with 1, never with 0", () => {
    expect(parseInstallSetting(undefined)).toBe(true);
    expect(parseInstallSetting("")).toBe(true);
    expect(parseInstallSetting("1")).toBe(true);
    expect(parseInstallSetting("0")).toBe(false);
    expect(parseInstallSetting("no")).toBe(false);
  });

  it("refuses anything else, naming the variable", () => {
    expect(() => parseInstallSetting("maybe")).toThrow(
      `${INSTALL_VARIABLE} must be 1 or 0, not "maybe"`,
    );
  });
});
