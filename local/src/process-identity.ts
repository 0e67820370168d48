import { existsSync, readFileSync } from "node:fs";

/**
 * Which process a pid named when we saw it. A pid alone is not enough: once that
 * process is gone the number can be handed to someone else's, and signalling it
 * would stop a stranger. Linux keeps each process's start time (clock ticks since
 * boot) in /proc/<pid>/stat; pid and start time together name one process for good.
 */
export interface ProcessIdentity {
  readonly pid: number;
  /** 0 where /proc is missing (not Linux): then only the pid is known. */
  readonly startTicks: number;
}

export interface ProcStat {
  pid: number;
  command: string;
  /** R, S, D, Z (zombie), T, X (dead), ... */
  state: string;
  ppid: number;
  startTicks: number;
}

/** Parses /proc/<pid>/stat. The command is in parentheses and may contain spaces and parentheses itself. */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // After ") ": field 3 (state), field 4 (ppid), ... field 22 (starttime) is index 19.
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const [state, ppid, startTicks] = [fields[0], Number(fields[1]), Number(fields[19])];
  if (!Number.isInteger(pid) || pid <= 0 || state === undefined || state === "") return null;
  if (!Number.isInteger(ppid) || !Number.isInteger(startTicks)) return null;
  return { pid, command: text.slice(open + 1, close), state, ppid, startTicks };
}

export const HAS_PROC = existsSync("/proc/self/stat");

export function procStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null; // gone, or never was
  }
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The identity of the live process `pid`, or null when none runs under it (zombies count as gone). */
export function identityOf(pid: number): ProcessIdentity | null {
  if (!HAS_PROC) return signalZero(pid) ? { pid, startTicks: 0 } : null;
  const stat = procStat(pid);
  if (stat === null || stat.state === "Z" || stat.state === "X") return null;
  return { pid, startTicks: stat.startTicks };
}

/** True while the very process `id` names still runs (not merely some process with its pid). */
export function isRunning(id: ProcessIdentity): boolean {
  const now = identityOf(id.pid);
  if (now === null) return false;
  return id.startTicks === 0 || now.startTicks === 0 || now.startTicks === id.startTicks;
}

let self: ProcessIdentity | undefined;
/** This process. */
export function selfIdentity(): ProcessIdentity {
  self ??= identityOf(process.pid) ?? { pid: process.pid, startTicks: 0 };
  return self;
}

/** `<pid>@<startTicks>`: how an identity travels in an environment variable or a pid file. */
export function formatIdentity(id: ProcessIdentity): string {
  return `${id.pid}@${id.startTicks}`;
}

export function parseIdentity(text: string | undefined): ProcessIdentity | null {
  const match = /^(\d+)@(\d+)$/.exec(text ?? "");
  if (match === null) return null;
  return { pid: Number(match[1]), startTicks: Number(match[2]) };
}

export function sameIdentity(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return a.pid === b.pid && a.startTicks === b.startTicks;
}
