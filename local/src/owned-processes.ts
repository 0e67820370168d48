import { type Dirent, readdirSync, readFileSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import {
  type ProcessIdentity,
  parseIdentity,
  procStat,
  selfIdentity,
  formatIdentity as show,
} from "./process-identity";
import { readProcessRecord } from "./process-record";

/**
 * Every process the harness starts carries three environment variables, and so do
 * its children (Postgres backends, read-fleet workers, Maven's JVM): which part it
 * is, that part's data directory, and the harness process that started it. /proc
 * shows them, so the harness finds its own processes again even when a pid file was
 * never written (killed mid-start) or was removed with the data (`rm -rf .data/dev`).
 * A process without them is never ours: a user's own Postgres is never touched.
 *
 * Some programs overwrite their environment to show a process title (redis-server
 * does): for those the pid files beside each part's data (process-record.ts) say
 * the same, and `ownedProcesses(root)` reads both.
 */
export const PART_VAR = "MRPS_PART";
export const PART_DIR_VAR = "MRPS_PART_DIR";
export const OWNER_VAR = "MRPS_OWNER";

/** The variables to give a process the harness starts for `part`, whose data lives in `dir`. */
export function ownedEnv(
  part: string,
  dir: string,
  owner: ProcessIdentity = selfIdentity(),
): Record<string, string> {
  return { [PART_VAR]: part, [PART_DIR_VAR]: dir, [OWNER_VAR]: show(owner) };
}

export interface OwnedProcess {
  pid: number;
  ppid: number;
  startTicks: number;
  part: string;
  dir: string;
  /** The harness process that started it; null when the variable is unreadable. */
  owner: ProcessIdentity | null;
}

/** Reads the harness's variables out of a NUL-separated /proc/<pid>/environ. */
export function markOf(
  environ: string,
): { part: string; dir: string; owner: ProcessIdentity | null } | null {
  let part: string | undefined;
  let dir: string | undefined;
  let owner: string | undefined;
  for (const entry of environ.split("\0")) {
    if (entry.startsWith(`${PART_VAR}=`)) part = entry.slice(PART_VAR.length + 1);
    else if (entry.startsWith(`${PART_DIR_VAR}=`)) dir = entry.slice(PART_DIR_VAR.length + 1);
    else if (entry.startsWith(`${OWNER_VAR}=`)) owner = entry.slice(OWNER_VAR.length + 1);
  }
  if (part === undefined || dir === undefined || dir === "") return null;
  return { part, dir, owner: parseIdentity(owner) };
}

/**
 * Every live process the harness started: those marked in their environment (Linux;
 * none elsewhere), and those the pid files under `recordsUnder` name, if given.
 */
export function ownedProcesses(recordsUnder?: string): OwnedProcess[] {
  const found = markedProcesses();
  if (recordsUnder === undefined) return found;
  const seen = new Set(found.map((p) => p.pid));
  for (const p of recordedUnder(recordsUnder)) if (!seen.has(p.pid)) found.push(p);
  return found;
}

function markedProcesses(): OwnedProcess[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const found: OwnedProcess[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "utf8");
    } catch {
      continue; // gone, or not readable by us (then not started by us either)
    }
    const mark = markOf(environ);
    if (mark === null) continue;
    const stat = procStat(pid);
    if (stat === null || stat.state === "Z" || stat.state === "X") continue;
    found.push({ pid, ppid: stat.ppid, startTicks: stat.startTicks, ...mark });
  }
  return found;
}

/** Directories that hold data, not pid files: never walked. */
const NOT_WALKED = new Set(["pgdata", "kafka-jars", "node_modules"]);

/**
 * The live processes named by the pid files (`*.pid`, JSON records) up to four levels
 * under `root`: `<root>/<stack>/<part>/<part>.pid`, `<root>/<area>/<stack>/logs/<app>.pid`.
 */
function recordedUnder(root: string): OwnedProcess[] {
  const found: OwnedProcess[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory() && depth < 4 && !NOT_WALKED.has(e.name)) walk(path, depth + 1);
      if (!e.isFile() || !e.name.endsWith(".pid")) continue;
      const record = readProcessRecord(path);
      if (record === null || record.part === "" || record.pid === process.pid) continue;
      const stat = procStat(record.pid);
      if (stat === null || stat.state === "Z" || stat.state === "X") continue;
      if (record.startTicks !== 0 && stat.startTicks !== record.startTicks) continue; // pid reused
      found.push({
        pid: record.pid,
        ppid: stat.ppid,
        startTicks: stat.startTicks,
        part: record.part,
        dir: dirname(path),
        owner: parseIdentity(record.owner),
      });
    }
  };
  walk(root, 1);
  return found;
}

export function isUnder(dir: string, root: string): boolean {
  const base = root.endsWith(sep) ? root.slice(0, -1) : root;
  return dir === base || dir.startsWith(base + sep);
}

/** The processes in `procs` whose own parent is not among them: the ones to signal. */
export function topmost(procs: readonly OwnedProcess[]): OwnedProcess[] {
  const pids = new Set(procs.map((p) => p.pid));
  return procs.filter((p) => !pids.has(p.ppid));
}

const LABELS: Record<string, string> = {
  postgres: "Postgres",
  redis: "Redis",
  kafka: "Kafka",
  maven: "Maven (resolving the Kafka jars)",
};

/** "Postgres (pid 12), Redis (pid 40), worker (pid 51)": the topmost process of each part. */
export function describeOwned(procs: readonly OwnedProcess[]): string {
  return topmost(procs)
    .map((p) => `${LABELS[p.part] ?? p.part} (pid ${p.pid})`)
    .join(", ");
}
