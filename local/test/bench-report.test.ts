import { describe, expect, it } from "vitest";
import {
  figureTable,
  loadAverageFigure,
  markdownTable,
  quantile,
  textTable,
} from "../src/bench-report";

describe("bench tables", () => {
  it("pads figures into a Markdown table that reads as text", () => {
    const table = figureTable([
      { figure: "apply rate", value: "12,345/s", target: ">= 10,000/s", ok: true },
      { figure: "load", value: "1.00", target: "", ok: null },
      { figure: "p99", value: "300 ms", target: "<= 250 ms", ok: false },
    ]);
    expect(table).toBe(
      [
        "| figure     | value    | target      | ok  |",
        "|------------|----------|-------------|-----|",
        "| apply rate | 12,345/s | >= 10,000/s | yes |",
        "| load       | 1.00     |             |     |",
        "| p99        | 300 ms   | <= 250 ms   | NO  |",
      ].join("\n"),
    );
  });

  const rows = [
    ["case", "req/s", "note"],
    ["a", "1,000", "n"],
    ["bbbbbb", "2", "longer note"],
  ];

  it("right-aligns the middle columns as text, with a rule under the header", () => {
    expect(textTable(rows).split("\n")).toEqual([
      "case    req/s  note       ",
      "------  -----  -----------",
      "a       1,000  n          ",
      "bbbbbb      2  longer note",
    ]);
  });

  it("right-aligns the middle columns in Markdown", () => {
    expect(markdownTable(rows).split("\n")).toEqual([
      "| case | req/s | note |",
      "| --- | ---: | --- |",
      "| a | 1,000 | n |",
      "| bbbbbb | 2 | longer note |",
    ]);
    expect(markdownTable([])).toBe("");
  });

  it("takes quantiles by nearest rank", () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect([0, 0.5, 0.9, 0.99, 1].map((q) => quantile(sorted, q))).toEqual([1, 5, 9, 10, 10]);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it("gives the load average as a figure without a target", () => {
    const f = loadAverageFigure();
    expect(f.value).toMatch(/^\d+\.\d\d \d+\.\d\d \d+\.\d\d$/);
    expect([f.target, f.ok]).toEqual(["", null]);
  });
});
