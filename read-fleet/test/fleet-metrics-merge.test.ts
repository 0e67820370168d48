import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { FleetMetrics, L1_HIT, ROUTE_TODOS } from "../src/fleet-metrics";
import { mergeFleetMetrics, type ProcessMetrics, retire } from "../src/fleet-metrics-merge";
import { metricValue } from "./helpers";

/** A read process's registry in miniature: one of each kind. */
function processRegistry() {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    served: new Counter({ name: "t_served_total", help: "S.", labelNames: ["route"], registers }),
    held: new Gauge({ name: "t_held", help: "H.", registers }),
    fill: new Histogram({ name: "t_fill_seconds", help: "F.", buckets: [0.1, 1], registers }),
  };
}

/** What the supervisor receives: getMetricsAsJSON() through the IPC channel's JSON. */
async function overIpc(registry: Registry): Promise<ProcessMetrics> {
  return JSON.parse(JSON.stringify(await registry.getMetricsAsJSON())) as ProcessMetrics;
}

describe("mergeFleetMetrics", () => {
  it("sums counters, sums histograms bucket by bucket, keeps gauges per process", async () => {
    const [a, b] = [processRegistry(), processRegistry()];
    a.served.inc({ route: "todos" }, 3);
    b.served.inc({ route: "todos" }, 4);
    b.served.inc({ route: "todo" }, 1);
    a.held.set(10);
    b.held.set(20);
    a.fill.observe(0.05);
    b.fill.observe(0.5);
    b.fill.observe(2);
    const own = new Registry();
    new Gauge({ name: "t_processes", help: "W.", registers: [own] }).set(2);
    const text = await mergeFleetMetrics(
      [
        { process: "0", metrics: await overIpc(a.registry) },
        { process: "1", metrics: await overIpc(b.registry) },
      ],
      [],
      own,
    ).metrics();
    const lines = text.split("\n");
    expect(lines).toContain('t_served_total{route="todos"} 7');
    expect(lines).toContain('t_served_total{route="todo"} 1');
    expect(lines).toContain('t_held{process="0"} 10');
    expect(lines).toContain('t_held{process="1"} 20');
    expect(lines).toContain('t_fill_seconds_bucket{le="0.1"} 1');
    expect(lines).toContain('t_fill_seconds_bucket{le="1"} 2');
    expect(lines).toContain('t_fill_seconds_bucket{le="+Inf"} 3');
    expect(lines).toContain("t_fill_seconds_sum 2.55");
    expect(lines).toContain("t_fill_seconds_count 3");
    expect(lines).toContain("t_processes 2");
    // Each family's HELP and TYPE once.
    expect(lines.filter((l) => l === "# TYPE t_served_total counter")).toHaveLength(1);
    expect(lines.filter((l) => l === "# TYPE t_held gauge")).toHaveLength(1);
  });

  it("never lets a fleet counter go down when a process dies and restarts", async () => {
    const [a, b] = [processRegistry(), processRegistry()];
    a.served.inc({ route: "todos" }, 5);
    b.served.inc({ route: "todos" }, 7);
    a.fill.observe(0.05);
    a.held.set(3);
    const aLast = await overIpc(a.registry);
    const total = async (live: { process: string; metrics: ProcessMetrics }[], r: ProcessMetrics) =>
      mergeFleetMetrics(live, r).metrics();
    const before = await total(
      [
        { process: "0", metrics: aLast },
        { process: "1", metrics: await overIpc(b.registry) },
      ],
      [],
    );
    expect(metricValue(before, "t_served_total")).toBe(12);
    // Process 0 dies; its successor starts from zero.
    const retired = retire([], aLast);
    const successor = processRegistry();
    successor.served.inc({ route: "todos" }, 1);
    const after = await total(
      [
        { process: "0", metrics: await overIpc(successor.registry) },
        { process: "1", metrics: await overIpc(b.registry) },
      ],
      retired,
    );
    expect(metricValue(after, "t_served_total")).toBe(13);
    expect(metricValue(after, "t_fill_seconds_count")).toBe(1);
    // The dead process's gauges are not carried over: a reading of a process that is gone.
    expect(metricValue(after, "t_held", { process: "0" })).toBe(0);
    // Retiring folds, so repeated restarts keep one snapshot's worth of series.
    const twice = retire(retired, await overIpc(successor.registry));
    expect(twice.find((m) => m.name === "t_served_total")?.values).toEqual([
      { value: 6, labels: { route: "todos" } },
    ]);
  });

  it("escapes label values per the text format: backslash, double quote, newline", async () => {
    const p = processRegistry();
    p.served.inc({ route: 'a"b\\c\nd' });
    const expected = 't_served_total{route="a\\"b\\\\c\\nd"} 1';
    expect((await p.registry.metrics()).split("\n")).toContain(expected);
    const merged = await mergeFleetMetrics(
      [{ process: "0", metrics: await overIpc(p.registry) }],
      [],
    ).metrics();
    expect(merged.split("\n")).toContain(expected);
  });
});

describe("FleetMetrics", () => {
  it("exposes the hot path's typed-array counters through prom-client", async () => {
    const m = new FleetMetrics();
    for (let i = 0; i < 3; i++) m.response(ROUTE_TODOS, 200);
    m.response(ROUTE_TODOS, 304);
    m.cache(L1_HIT);
    m.refreshes.inc({ result: "replaced" });
    const text = await m.registry.metrics();
    expect(text).toContain("# TYPE read_http_responses_total counter");
    expect(metricValue(text, "read_http_responses_total", { route: "todos", code: "200" })).toBe(3);
    expect(metricValue(text, "read_http_responses_total", { code: "304" })).toBe(1);
    expect(metricValue(text, "read_cache_requests_total", { level: "l1", result: "hit" })).toBe(1);
    // Every cache outcome is exported, zeros included.
    expect(text).toContain('read_cache_requests_total{level="postgres",result="error"} 0');
    expect(metricValue(text, "read_refreshes_total", { result: "replaced" })).toBe(1);
    // Scraped twice, the counters are read again, not added twice.
    m.response(ROUTE_TODOS, 200);
    const again = await m.registry.metrics();
    expect(metricValue(again, "read_http_responses_total", { code: "200" })).toBe(4);
  });
});
