import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { terminate } from "./proc";
import {
  formatIdentity,
  identityOf,
  isRunning,
  type ProcessIdentity,
  selfIdentity,
} from "./process-identity";
import type { StopOptions } from "./teardown";

/**
 * A pid file beside a part's data: which process the harness started there, with
 * its start time so a later reader can tell it from an unrelated process that got
 * the same pid, and the harness run that started it. One JSON object per file.
 */
export interface ProcessRecord {
  part: string;
  pid: number;
  startTicks: number;
  /** `<pid>@<startTicks>` of the harness process that started it. */
  owner: string;
  port?: number;
  command: string;
  startedAt: string;
}

export function writeProcessRecord(
  file: string,
  pid: number,
  detail: { part: string; command: string; port?: number },
): void {
  const id = identityOf(pid) ?? { pid, startTicks: 0 };
  const record: ProcessRecord = {
    part: detail.part,
    pid,
    startTicks: id.startTicks,
    owner: formatIdentity(selfIdentity()),
    ...(detail.port !== undefined && { port: detail.port }),
    command: detail.command,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

/** The record in `file`; a bare pid (the format before records) counts as a record with an unknown start time. */
export function readProcessRecord(file: string): ProcessRecord | null {
  if (!existsSync(file)) return null;
  const text = readFileSync(file, "utf8").trim();
  if (/^\d+$/.test(text)) {
    return { part: "", pid: Number(text), startTicks: 0, owner: "", command: "", startedAt: "" };
  }
  try {
    const parsed = JSON.parse(text) as Partial<ProcessRecord>;
    if (typeof parsed.pid !== "number" || typeof parsed.startTicks !== "number") return null;
    return parsed as ProcessRecord;
  } catch {
    return null; // half-written by a run that was killed at that moment
  }
}

/** The process `file` names, if that very process still runs. */
export function recordedProcess(file: string): ProcessIdentity | null {
  const record = readProcessRecord(file);
  if (record === null) return null;
  const id = { pid: record.pid, startTicks: record.startTicks };
  return isRunning(id) ? id : null;
}

/**
 * Stops the process `file` names (SIGTERM, then SIGKILL after `graceMs`) and removes
 * the file. Returns the stopped pid, or null when nothing of ours was running.
 */
export async function stopRecordedProcess(
  file: string,
  graceMs: number,
  { hurry }: StopOptions = {},
): Promise<number | null> {
  const id = recordedProcess(file);
  if (id !== null) await terminate(id.pid, graceMs, hurry);
  rmSync(file, { force: true });
  return id?.pid ?? null;
}
