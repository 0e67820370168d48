import { describe, expect, it } from "vitest";
import { Recorder, type Sample } from "../../scripts/soak/recorder";
import { summarize } from "../../scripts/soak/report";
import { FAULT_KINDS, planSoak } from "../../scripts/soak/schedule";
import { judgeTodo, type WriteVerdict } from "../../scripts/soak/verify";
import type { TodoRecord } from "../../scripts/soak/writer";

// The soak's verdict must be able to fail: its pure parts, on hand-made data.

function recorderWith(samples: Omit<Sample, "ms">[], windows: Recorder["windows"]): Recorder {
  const r = new Recorder();
  for (const s of samples) r.samples.push({ ...s, ms: 10 });
  r.windows.push(...windows);
  return r;
}

const CLEAN: WriteVerdict = {
  accepted: 10,
  lost: [],
  rejected: [],
  doubled: [],
  wrongState: [],
  abandoned: [],
  idMismatches: 0,
  drainMs: 100,
  staleReads: [],
};
const PACE = { reads: { started: 1, skipped: 0 }, writes: { started: 1, skipped: 0 } };

describe("planSoak", () => {
  it("spreads every fault kind over the run, twice in 10 minutes, once in 1", () => {
    const ten = planSoak(10);
    expect(ten.faults.map((f) => f.kind)).toEqual([...FAULT_KINDS, ...FAULT_KINDS]);
    for (const f of ten.faults) {
      expect(f.at).toBeGreaterThanOrEqual(30_000);
      expect(f.at).toBeLessThan(ten.durationMs - ten.tailMs);
    }
    expect(ten.faults.find((f) => f.kind === "kafka")?.downMs).toBe(20_000);
    const one = planSoak(1);
    expect(one.faults.map((f) => f.kind)).toEqual([...FAULT_KINDS]);
    expect(Math.max(...one.faults.map((f) => f.downMs))).toBeLessThan(6_000);
  });
});

describe("Recorder: which non-2xx a fault window allows", () => {
  const windows: Recorder["windows"] = [
    { kind: "kafka", start: 1000, end: 2000, detail: "" },
    { kind: "read-worker", start: 3000, end: 4000, detail: "" },
    { kind: "redis", start: 5000, end: 6000, detail: "" },
  ];
  const r = recorderWith([], windows);
  const s = (
    t: number,
    route: Sample["route"],
    status: Sample["status"],
    retryAfter = false,
  ): Sample => ({
    t,
    route,
    status,
    retryAfter,
    ms: 10,
  });

  it("allows a write 503 with Retry-After while Kafka is down, and nothing else there", () => {
    expect(r.allowed(s(1500, "POST /todos", 503, true))).toBe(true);
    expect(r.allowed(s(1500, "POST /todos", 503, false))).toBe(false);
    expect(r.allowed(s(1500, "POST /todos", 500, true))).toBe(false);
    expect(r.allowed(s(1500, "GET /todos", 503, true))).toBe(false);
  });

  it("allows a reset read on the killed read worker, not a 5xx and not a write", () => {
    expect(r.allowed(s(3500, "GET /todos", "ECONNRESET"))).toBe(true);
    expect(r.allowed(s(3500, "GET /todos", 503))).toBe(false);
    expect(r.allowed(s(3500, "POST /todos", "ECONNRESET"))).toBe(false);
  });

  it("allows nothing while Redis is down, nor outside windows; an overlapping exchange counts", () => {
    expect(r.allowed(s(5500, "GET /todos", 503, true))).toBe(false);
    expect(r.allowed(s(8000, "POST /todos", 503, true))).toBe(false);
    expect(r.phaseOf(s(8000, "GET /todos", 200))).toBe("steady");
    // Started just before Kafka went away, answered inside the window.
    expect(r.phaseOf({ ...s(995, "POST /todos", 503, true), ms: 1500 })).toBe("kafka");
  });
});

describe("judgeTodo", () => {
  const todo = (over: Partial<TodoRecord>): TodoRecord => ({
    id: "t",
    owner: "o",
    title: "v3",
    updates: 2,
    deleted: false,
    busy: false,
    uncertain: false,
    ...over,
  });
  it("names a missing create, a lost update, a wrong title and a delete not applied", () => {
    expect(judgeTodo(todo({}), { title: "v3", version: 3 })).toBeNull();
    expect(judgeTodo(todo({}), undefined)).toMatch(/missing/);
    expect(judgeTodo(todo({}), { title: "v2", version: 2 })).toMatch(/update is missing/);
    expect(judgeTodo(todo({}), { title: "v2", version: 3 })).toMatch(/title/);
    expect(judgeTodo(todo({ deleted: true }), { title: "v3", version: 3 })).toMatch(/delete/);
    expect(judgeTodo(todo({ deleted: true }), undefined)).toBeNull();
  });
});

describe("summarize", () => {
  const ok = recorderWith([{ t: 10, route: "GET /todos", status: 200, retryAfter: false }], []);
  it("passes a clean run", () => {
    expect(summarize(ok, planSoak(1), PACE, CLEAN, []).pass).toBe(true);
  });

  it("fails on a lost or doubled write, a non-2xx outside a window, or a crash", () => {
    expect(summarize(ok, planSoak(1), PACE, { ...CLEAN, lost: ["c"] }, []).pass).toBe(false);
    const doubled = { ...CLEAN, doubled: [{ id: "t", expected: 2, actual: 3 }] };
    expect(summarize(ok, planSoak(1), PACE, doubled, []).pass).toBe(false);
    const bad = recorderWith([{ t: 10, route: "GET /todos", status: 503, retryAfter: true }], []);
    const summary = summarize(bad, planSoak(1), PACE, CLEAN, []);
    expect(summary.violations).toEqual({
      outsideWindows: 1,
      fiveXxOutsideWindows: 1,
      disallowedInWindows: 0,
    });
    expect(summary.pass).toBe(false);
    const exits = [{ app: "worker", code: 1, atSec: 3 }];
    expect(summarize(ok, planSoak(1), PACE, CLEAN, exits).pass).toBe(false);
  });
});
