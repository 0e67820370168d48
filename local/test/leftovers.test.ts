import { describe, expect, it } from "vitest";
import { leftoversUnder, runningOthersIn, startedBy } from "../src/leftovers";
import {
  describeOwned,
  isUnder,
  markOf,
  type OwnedProcess,
  ownedEnv,
  topmost,
} from "../src/owned-processes";
import type { ProcessIdentity } from "../src/process-identity";

const ME: ProcessIdentity = { pid: 100, startTicks: 1 };
const OTHER_LIVE: ProcessIdentity = { pid: 200, startTicks: 2 };
const GONE: ProcessIdentity = { pid: 300, startTicks: 3 };
const running = (id: ProcessIdentity) => id.pid === ME.pid || id.pid === OTHER_LIVE.pid;

function proc(pid: number, part: string, dir: string, owner: ProcessIdentity | null, ppid = 1) {
  return { pid, ppid, startTicks: pid * 10, part, dir, owner } satisfies OwnedProcess;
}

const procs: OwnedProcess[] = [
  proc(11, "postgres", "/r/.data/dev/postgres", GONE),
  proc(12, "postgres", "/r/.data/dev/postgres", GONE, 11), // a backend of 11
  proc(13, "worker", "/r/.data/dev", GONE),
  proc(21, "redis", "/r/.data/test-200/redis", OTHER_LIVE),
  proc(31, "kafka", "/r/.data/dev/kafka", ME),
  proc(41, "redis", "/elsewhere/.data/dev/redis", GONE), // another clone's
  proc(51, "redis", "/r/.data/dev/redis", null), // starter unknown
];

describe("leftovers", () => {
  it("are the processes under the data root whose starter is gone (or unknown)", () => {
    expect(leftoversUnder(procs, "/r/.data", running).map((p) => p.pid)).toEqual([11, 12, 13, 51]);
  });

  it("never include another clone's, nor a live run's", () => {
    const pids = leftoversUnder(procs, "/r/.data", running).map((p) => p.pid);
    expect(pids).not.toContain(41);
    expect(pids).not.toContain(21);
    expect(pids).not.toContain(31);
  });

  it("a second stack on the same data is another live run's processes there", () => {
    expect(runningOthersIn(procs, "/r/.data/test-200", ME, running).map((p) => p.pid)).toEqual([
      21,
    ]);
    expect(runningOthersIn(procs, "/r/.data/dev", ME, running)).toEqual([]);
  });

  it("what this process started is found by its identity", () => {
    expect(startedBy(procs, ME, "/r/.data").map((p) => p.pid)).toEqual([31]);
    expect(startedBy(procs, { pid: ME.pid, startTicks: 9 }, "/r/.data")).toEqual([]);
  });

  it("only the topmost process of each tree is signalled, and named", () => {
    const left = leftoversUnder(procs, "/r/.data", running);
    expect(topmost(left).map((p) => p.pid)).toEqual([11, 13, 51]);
    expect(describeOwned(left)).toBe("Postgres (pid 11), worker (pid 13), Redis (pid 51)");
  });
});

describe("the environment mark", () => {
  it("round-trips through a NUL-separated environ", () => {
    const env = ownedEnv("redis", "/r/.data/dev/redis", { pid: 7, startTicks: 8 });
    const environ = ["PATH=/bin", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ""].join(
      "\0",
    );
    expect(markOf(environ)).toEqual({
      part: "redis",
      dir: "/r/.data/dev/redis",
      owner: { pid: 7, startTicks: 8 },
    });
  });

  it("is absent from a process the harness did not start", () => {
    expect(markOf("PATH=/bin\0HOME=/root\0")).toBeNull();
  });
});

describe("isUnder", () => {
  it("matches whole path components only", () => {
    expect(isUnder("/r/.data/dev", "/r/.data")).toBe(true);
    expect(isUnder("/r/.data", "/r/.data/")).toBe(true);
    expect(isUnder("/r/.data-old/dev", "/r/.data")).toBe(false);
  });
});
