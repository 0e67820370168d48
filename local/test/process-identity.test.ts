import { describe, expect, it } from "vitest";
import {
  formatIdentity,
  identityOf,
  isRunning,
  parseIdentity,
  parseProcStat,
  selfIdentity,
} from "../src/process-identity";

// A real line from /proc/<pid>/stat, with a command name that has a space and a parenthesis.
const STAT =
  "4603 (postgres: a (b)) S 1 4603 4603 0 -1 4194304 3767 497 0 0 1 1 0 0 20 0 1 0 94778 222318592 7326 18446744073709551615";

describe("parseProcStat", () => {
  it("reads pid, state, parent and start time past a command name with spaces and parentheses", () => {
    expect(parseProcStat(STAT)).toEqual({
      pid: 4603,
      command: "postgres: a (b)",
      state: "S",
      ppid: 1,
      startTicks: 94778,
    });
  });

  it("refuses what is not a stat line", () => {
    expect(parseProcStat("")).toBeNull();
    expect(parseProcStat("12 no parentheses here")).toBeNull();
    expect(parseProcStat("12 (x) S 1")).toBeNull(); // cut short: no start time
  });
});

describe("process identity", () => {
  it("knows this process, and tells it from another process that would reuse its pid", () => {
    const self = selfIdentity();
    expect(self.pid).toBe(process.pid);
    expect(isRunning(self)).toBe(true);
    expect(identityOf(process.pid)).toEqual(self);
    expect(isRunning({ pid: self.pid, startTicks: self.startTicks + 1 })).toBe(false);
  });

  it("says a process that is gone is not running", () => {
    expect(identityOf(2 ** 22 + 1)).toBeNull(); // above Linux's pid_max
    expect(isRunning({ pid: 2 ** 22 + 1, startTicks: 5 })).toBe(false);
  });

  it("travels as <pid>@<startTicks>", () => {
    expect(formatIdentity({ pid: 12, startTicks: 345 })).toBe("12@345");
    expect(parseIdentity("12@345")).toEqual({ pid: 12, startTicks: 345 });
    expect(parseIdentity("12")).toBeNull();
    expect(parseIdentity(undefined)).toBeNull();
  });
});
