import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { StartupError } from "./errors";
import { isAlive } from "./proc";

/**
 * Where a private Postgres cluster keeps its files. Postgres refuses to run as root,
 * so as root the harness runs it as the `postgres` user, who cannot enter a clone
 * under /root or in a `mktemp -d` folder (both mode 0700): initdb then fails with
 * "Permission denied". Such a cluster lives in a private directory the postgres user
 * owns under /var/tmp instead (not /tmp: many systems empty it at boot, and the dev
 * stack's data should survive a reboot), named after the data directory it serves.
 * The data directory keeps symlinks to it (`pgdata`, `postgres.log`), so the files
 * are where the README says, and removing the data directory releases it: the next
 * start finds no link pointing at the old cluster and starts afresh.
 */

export const RELOCATED_BASE = "/var/tmp";
const RELOCATED_PREFIX = "million-rps-pg-";

export type PostgresHomeChoice =
  | { relocated: false; dir: string }
  | { relocated: true; dir: string; reason: string };

/** In place unless Postgres runs as another user who cannot reach `dataDir`. Pure. */
export function choosePostgresHome(input: {
  dataDir: string;
  runsAsPostgresUser: boolean;
  postgresUserCanEnter: boolean;
  base?: string;
}): PostgresHomeChoice {
  if (!input.runsAsPostgresUser || input.postgresUserCanEnter) {
    return { relocated: false, dir: input.dataDir };
  }
  return {
    relocated: true,
    dir: relocatedHomeFor(input.dataDir, input.base),
    reason: `the postgres user cannot enter ${dirname(input.dataDir)} (a parent directory is private to its owner)`,
  };
}

/** The stable private directory for `dataDir`'s cluster: the same data directory always gets the same one. */
export function relocatedHomeFor(dataDir: string, base = RELOCATED_BASE): string {
  const digest = createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 16);
  return join(base, `${RELOCATED_PREFIX}${digest}`);
}

export interface PostgresHome {
  /** The data directory the caller asked for (`.data/<profile>/postgres`). */
  dataDir: string;
  /** Where the cluster really is: `dataDir` itself, or the relocated private directory. */
  dir: string;
  pgdata: string;
  logFile: string;
  relocated: boolean;
}

export interface PostgresUser {
  uid: number;
  gid: number;
}

/** Whether `user` may enter `dir` (every parent searchable), asked of the system itself: ACLs and groups count. */
function userCanEnter(user: string, dir: string): boolean {
  return (
    spawnSync("runuser", ["-u", user, "--", "test", "-x", dir], { stdio: "ignore" }).status === 0
  );
}

/**
 * Decides where `dataDir`'s cluster lives and makes that place ready: owned by the
 * user Postgres runs as, private (0700) when relocated, and released when stale.
 */
export function preparePostgresHome(dataDir: string, runAs: PostgresUser | null): PostgresHome {
  mkdirSync(dataDir, { recursive: true });
  const choice = choosePostgresHome({
    dataDir,
    runsAsPostgresUser: runAs !== null,
    postgresUserCanEnter: runAs === null || userCanEnter("postgres", dirname(dataDir)),
  });
  const home = (dir: string): PostgresHome => ({
    dataDir,
    dir,
    pgdata: join(dir, "pgdata"),
    logFile: join(dir, "postgres.log"),
    relocated: choice.relocated,
  });
  if (!choice.relocated) {
    // The postgres user must own its data directory and be able to write the log there.
    if (runAs !== null) chownSync(dataDir, runAs.uid, runAs.gid);
    return home(dataDir);
  }
  // runAs is set: only a cluster run as another user is ever relocated.
  const user = runAs as PostgresUser;
  releaseAbandonedHomes();
  const result = home(choice.dir);
  if (existsSync(choice.dir)) {
    checkOurs(choice.dir, user);
    if (!linksTo(dataDir, result.pgdata)) {
      // The data directory was removed and made again since: its old cluster is no longer wanted.
      if (postmasterRunning(result.pgdata)) {
        throw new StartupError(
          `${choice.dir} holds a Postgres cluster that is still running but no longer belongs to ${dataDir}`,
          `Stop it (runuser -u postgres -- pg_ctl stop -D ${result.pgdata}) or remove ${choice.dir}, then start again.`,
        );
      }
      rmSync(choice.dir, { recursive: true, force: true });
    }
  }
  if (!existsSync(choice.dir)) {
    mkdirSync(choice.dir, { mode: 0o700 });
    chownSync(choice.dir, user.uid, user.gid);
    checkOurs(choice.dir, user);
    writeFileSync(join(choice.dir, "origin"), `${resolve(dataDir)}\n`);
  }
  link(result.pgdata, join(dataDir, "pgdata"));
  link(result.logFile, join(dataDir, "postgres.log"));
  return result;
}

/** A predictable name in a world-writable directory: refuse one that someone else made (or a symlink planted there). */
function checkOurs(dir: string, user: PostgresUser): void {
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== user.uid || (st.mode & 0o777) !== 0o700) {
    throw new StartupError(
      `${dir} exists but is not a private directory of the postgres user (mode ${(st.mode & 0o777).toString(8)}, owner uid ${st.uid})`,
      `Remove it (rm -rf ${dir}) and start again; the harness makes it itself.`,
    );
  }
}

function linksTo(dataDir: string, target: string): boolean {
  try {
    return readlinkSync(join(dataDir, "pgdata")) === target;
  } catch {
    return false;
  }
}

function link(target: string, path: string): void {
  try {
    if (lstatSync(path).isSymbolicLink() && readlinkSync(path) === target) return;
    rmSync(path, { recursive: true, force: true }); // an in-place cluster from before, or a stale link
  } catch {} // nothing there yet
  symlinkSync(target, path);
}

/** True when pgdata's postmaster.pid names a live Postgres process. */
function postmasterRunning(pgdata: string): boolean {
  try {
    const pid = Number(readFileSync(join(pgdata, "postmaster.pid"), "utf8").split("\n")[0]);
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return false;
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres");
  } catch {
    return false;
  }
}

/** `test-<pid>` data (the test profile's) whose run is over: throw-away, nobody will come back for it. */
function deadTestData(origin: string): boolean {
  const match = /^test-(\d+)(?:-|$)/.exec(basename(dirname(origin)));
  return match !== null && !isAlive(Number(match[1]));
}

/**
 * Removes relocated clusters nobody can come back to: their data directory is gone
 * (a deleted clone or temporary folder), no longer links to them, or belonged to a
 * finished test run. A cluster that is still running is left alone.
 */
export function releaseAbandonedHomes(base = RELOCATED_BASE): string[] {
  let names: string[];
  try {
    names = readdirSync(base).filter((n) => n.startsWith(RELOCATED_PREFIX));
  } catch {
    return [];
  }
  const released: string[] = [];
  for (const name of names) {
    const dir = join(base, name);
    let origin: string;
    try {
      origin = readFileSync(join(dir, "origin"), "utf8").trim();
    } catch {
      continue; // not one of ours, or being made right now
    }
    const abandoned = !linksTo(origin, join(dir, "pgdata")) || deadTestData(origin);
    if (abandoned && !postmasterRunning(join(dir, "pgdata"))) {
      rmSync(dir, { recursive: true, force: true });
      released.push(dir);
    }
  }
  return released;
}

/** Removes `dataDir`'s cluster wherever it lives (the caller stops it first). */
export function removePostgresData(dataDir: string): void {
  const relocated = relocatedHomeFor(dataDir);
  if (linksTo(dataDir, join(relocated, "pgdata")))
    rmSync(relocated, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}
