import { describe, expect, it } from "vitest";
import { mergeExpositions } from "../src/metrics-merge";

describe("mergeExpositions", () => {
  it("labels every sample with its worker and keeps each family together", () => {
    const a = [
      "# HELP x_total X.",
      "# TYPE x_total counter",
      'x_total{route="todos"} 3',
      "# HELP g G.",
      "# TYPE g gauge",
      "g 1",
      "",
    ].join("\n");
    const b = a.replace(" 3", " 4").replace("g 1", "g 2");
    const out = mergeExpositions(
      [
        { worker: "0", text: a },
        { worker: "1", text: b },
      ],
      "# HELP s S.\n# TYPE s gauge\ns 2\n",
    );
    expect(out.split("\n")).toEqual([
      "# HELP x_total X.",
      "# TYPE x_total counter",
      'x_total{worker="0",route="todos"} 3',
      'x_total{worker="1",route="todos"} 4',
      "# HELP g G.",
      "# TYPE g gauge",
      'g{worker="0"} 1',
      'g{worker="1"} 2',
      "# HELP s S.",
      "# TYPE s gauge",
      "s 2",
      "",
    ]);
  });

  it("handles histograms and empty label sets", () => {
    const text = [
      "# HELP h H.",
      "# TYPE h histogram",
      'h_bucket{le="0.1"} 1',
      "h_sum 0.05",
      "h_count 1",
    ].join("\n");
    const out = mergeExpositions([{ worker: "3", text }]);
    expect(out).toContain('h_bucket{worker="3",le="0.1"} 1');
    expect(out).toContain('h_sum{worker="3"} 0.05');
  });
});
