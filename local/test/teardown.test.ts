import { describe, expect, it } from "vitest";
import { StopRequested } from "../src/errors";
import { Teardown, throwIfStopping } from "../src/teardown";

describe("Teardown", () => {
  it("undoes parts in reverse order and reports what they stopped", async () => {
    const t = new Teardown();
    const order: string[] = [];
    for (const part of ["postgres", "worker", "read-fleet"])
      t.add(part, async () => {
        order.push(part);
        return [`${part} (pid 1)`];
      });
    const report = await t.run();
    expect(order).toEqual(["read-fleet", "worker", "postgres"]);
    expect(report).toEqual({
      stopped: ["read-fleet (pid 1)", "worker (pid 1)", "postgres (pid 1)"],
      failed: [],
    });
  });

  it("tells starts in progress to give up as soon as a stop is requested", async () => {
    const t = new Teardown();
    expect(t.requested).toBe(false);
    expect(() => throwIfStopping(t.signal)).not.toThrow();
    const run = t.run();
    expect(t.requested).toBe(true);
    expect(t.signal.reason).toBeInstanceOf(StopRequested);
    expect(() => throwIfStopping(t.signal)).toThrow(StopRequested);
    await run;
  });

  it("also stops a part added while it is stopping (a start that finished meanwhile)", async () => {
    const t = new Teardown();
    t.add("services", async () => {
      t.add("late app", async () => ["late app"]);
      return ["services"];
    });
    expect((await t.run()).stopped).toEqual(["services", "late app"]);
  });

  it("goes on past a part that fails, and reports it", async () => {
    const t = new Teardown();
    t.add("postgres", async () => ["postgres"]);
    t.add("kafka", async () => {
      throw new Error("pg_ctl exited with 1");
    });
    const report = await t.run();
    expect(report.stopped).toEqual(["postgres"]);
    expect(report.failed.map((f) => [f.part, f.error.message])).toEqual([
      ["kafka", "pg_ctl exited with 1"],
    ]);
  });

  it("stops once: a second request gets the same report", async () => {
    const t = new Teardown();
    let calls = 0;
    t.add("x", async () => {
      calls++;
      return [];
    });
    const [a, b] = await Promise.all([t.run(), t.run()]);
    expect(a).toBe(b);
    expect(calls).toBe(1);
  });

  it("passes a hurry (a second Ctrl-C) to the part that is still stopping", async () => {
    const t = new Teardown();
    let hurried = false;
    t.add("kafka", async ({ hurry }) => {
      await new Promise<void>((resolve) => hurry?.addEventListener("abort", () => resolve()));
      hurried = hurry?.aborted === true;
      return ["kafka (killed)"];
    });
    const run = t.run();
    t.hurry();
    expect((await run).stopped).toEqual(["kafka (killed)"]);
    expect(hurried).toBe(true);
  });

  it("follows the hurry of an enclosing stop", async () => {
    const outer = new AbortController();
    const t = new Teardown();
    t.hurryWith(outer.signal);
    let seen: AbortSignal | undefined;
    t.add("x", async ({ hurry }) => {
      seen = hurry;
      return [];
    });
    outer.abort();
    await t.run();
    expect(seen?.aborted).toBe(true);
  });
});
