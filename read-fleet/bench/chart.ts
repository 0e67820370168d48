/**
 * The "reads while writes flow" chart, as hand-written SVG (no dependency): fleet
 * CPU per read and read p99 against writes per second. Top row: GET
 * /todos?limit=100 at every write rate, with the no-write figure, the targets and
 * the bare uWS floor drawn as reference lines. Bottom row: the issue-19 workloads
 * (random ids, random pages of a walk), each with its own no-write line and target.
 */
import type { WorldSummary } from "./world-report";

export interface ChartInput {
  title: string;
  subtitle: string;
  summary: readonly WorldSummary[];
  /** Bare uWS CPU per request from the single-process case of the same run, when it ran. */
  floorCpuUs: number | null;
}

const W = 1060;
const PLOT = { w: 420, h: 200 };
const LEFTS = [80, 600];
const ROW = 410;
const HEAD = 70;

const BLUE = "#1f6feb";
const ORANGE = "#d97706";
const PURPLE = "#7c3aed";
const GREY = "#6b7280";
const RED = "#dc2626";
const GREEN = "#059669";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const num = (n: number, d = 1) =>
  n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

function niceMax(v: number): { max: number; step: number } {
  if (!Number.isFinite(v) || v <= 0) return { max: 1, step: 0.25 };
  const raw = v / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return { max: Math.ceil(v / step) * step, step };
}

interface Series {
  label: string;
  color: string;
  width: number;
  values: ReadonlyMap<number, number>;
  /** Print each point's value beside it. */
  labelled: boolean;
}

interface Ref {
  value: number;
  label: string;
  color: string;
  dash: string;
  /** Drawn over these write rates only (default: the whole width). */
  rates?: readonly number[];
}

function panel(o: {
  left: number;
  top: number;
  title: string;
  unit: string;
  rates: readonly number[];
  series: readonly Series[];
  refs: readonly Ref[];
  xNotes: ReadonlyMap<number, string>;
  digits: number;
}): string {
  const { left, top, rates } = o;
  const { w, h } = PLOT;
  const all = o.refs.map((r) => r.value);
  for (const s of o.series) all.push(...s.values.values());
  const { max, step } = niceMax(Math.max(0, ...all.filter(Number.isFinite)) * 1.15);
  const y = (v: number) => top + h - (Math.min(v, max) / max) * h;
  const xi = (i: number) =>
    left + (rates.length === 1 ? w / 2 : 30 + (i * (w - 60)) / (rates.length - 1));
  const x = (rate: number) => xi(Math.max(0, rates.indexOf(rate)));
  const out: string[] = [
    `<text x="${left}" y="${top - 12}" font-size="15" font-weight="600">${esc(o.title)}</text>`,
  ];
  for (let v = 0; v <= max + 1e-9; v += step) {
    out.push(
      `<line x1="${left}" y1="${y(v)}" x2="${left + w}" y2="${y(v)}" stroke="#e5e7eb"/>`,
      `<text x="${left - 8}" y="${y(v) + 4}" font-size="11" text-anchor="end" fill="#555">${num(v, step < 1 ? 1 : 0)}</text>`,
    );
  }
  const mid = top + h / 2;
  out.push(
    `<line x1="${left}" y1="${top + h}" x2="${left + w}" y2="${top + h}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + h}" stroke="#333"/>`,
    `<text x="${left - 50}" y="${mid}" font-size="12" transform="rotate(-90 ${left - 50} ${mid})" text-anchor="middle" fill="#333">${esc(o.unit)}</text>`,
  );
  for (const r of rates) {
    out.push(
      `<line x1="${x(r)}" y1="${top + h}" x2="${x(r)}" y2="${top + h + 5}" stroke="#333"/>`,
      `<text x="${x(r)}" y="${top + h + 18}" font-size="12" text-anchor="middle">${r.toLocaleString("en-US")}</text>`,
    );
    const note = o.xNotes.get(r);
    if (note)
      out.push(
        `<text x="${x(r)}" y="${top + h + 31}" font-size="10" text-anchor="middle" fill="${RED}">${esc(note)}</text>`,
      );
  }
  out.push(
    `<text x="${left + w / 2}" y="${top + h + 45}" font-size="11.5" text-anchor="middle" fill="#333">writes per second through the write API (asked)</text>`,
  );
  for (const ref of o.refs) {
    if (!Number.isFinite(ref.value)) continue;
    const xs = (ref.rates ?? []).map(x);
    const x1 = xs.length === 0 ? left : Math.min(...xs) - 24;
    const x2 = xs.length === 0 ? left + w : Math.max(...xs) + 24;
    out.push(
      `<line x1="${x1}" y1="${y(ref.value)}" x2="${x2}" y2="${y(ref.value)}" stroke="${ref.color}" stroke-width="1.6" stroke-dasharray="${ref.dash}"/>`,
    );
  }
  for (const s of o.series) {
    const pts = rates
      .filter((r) => Number.isFinite(s.values.get(r) ?? Number.NaN))
      .map((r) => ({ r, v: s.values.get(r) as number }));
    if (pts.length === 0) continue;
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="${s.width}" points="${pts.map((p) => `${x(p.r)},${y(p.v)}`).join(" ")}"/>`,
    );
    for (const p of pts) {
      out.push(`<circle cx="${x(p.r)}" cy="${y(p.v)}" r="${s.width + 1.5}" fill="${s.color}"/>`);
      if (s.labelled)
        out.push(
          `<text x="${x(p.r) + 7}" y="${y(p.v) - 8}" font-size="11.5" font-weight="600" fill="${s.color}">${num(p.v, o.digits)}</text>`,
        );
    }
  }
  // Key: the series and every reference line, with its value, under the axis.
  const keys: { color: string; dash: string; width: number; label: string }[] = [
    ...o.series.map((s) => ({ color: s.color, dash: "", width: s.width, label: s.label })),
    ...o.refs
      .filter((r) => Number.isFinite(r.value))
      .map((r) => ({ color: r.color, dash: r.dash, width: 1.6, label: r.label })),
  ];
  keys.forEach((k, i) => {
    const kx = left;
    const ky = top + h + 64 + i * 15;
    out.push(
      `<line x1="${kx}" y1="${ky - 4}" x2="${kx + 26}" y2="${ky - 4}" stroke="${k.color}" stroke-width="${k.width}"${k.dash === "" ? "" : ` stroke-dasharray="${k.dash}"`}/>`,
      `<text x="${kx + 32}" y="${ky}" font-size="11" fill="#222">${esc(k.label)}</text>`,
    );
  });
  return out.join("\n");
}

export function worldChartSvg(input: ChartInput): string {
  const { summary } = input;
  // The chart shows the write stream the spec names (creates); updates rows are in the tables.
  const of = (workload: string) =>
    summary.filter((s) => s.workload === workload && s.writeKind === "creates");
  const map = (list: readonly WorldSummary[], f: (s: WorldSummary) => number) =>
    new Map(list.map((s) => [s.writeRate, f(s)] as const));
  const page = of("page 1");
  const ids = of("random ids");
  const walk = of("random pages");
  const base = (list: readonly WorldSummary[]) => list.find((s) => s.writeRate === 0);
  const page0 = base(page);
  const ids0 = base(ids);
  const walk0 = base(walk);
  const rates1 = page.map((s) => s.writeRate).sort((a, b) => a - b);
  const rates2 = [...new Set([...ids, ...walk].map((s) => s.writeRate))].sort((a, b) => a - b);
  const notes = (list: readonly WorldSummary[]) =>
    new Map(
      list
        .filter((s) => s.writeRate > 0 && s.writesAcceptedPerSecond < 0.95 * s.writeRate)
        .map(
          (s) =>
            [
              s.writeRate,
              `reached ${Math.round(s.writesAcceptedPerSecond).toLocaleString("en-US")}/s`,
            ] as const,
        ),
    );
  const floor: Ref[] =
    input.floorCpuUs === null
      ? []
      : [
          {
            value: input.floorCpuUs,
            label: `bare uWS floor: ${num(input.floorCpuUs, 2)} µs (1 process, pinned)`,
            color: GREEN,
            dash: "8 3 2 3",
          },
        ];
  const blocks: string[] = [];
  const top1 = HEAD + 40;
  if (page.length > 0) {
    const cpuRefs: Ref[] = [];
    const p99Refs: Ref[] = [];
    if (page0 !== undefined) {
      const low = rates1.filter((r) => r > 0 && r <= 500);
      const high = rates1.filter((r) => r > 500);
      cpuRefs.push({
        value: page0.cpuUsPerRead,
        label: `no writes: ${num(page0.cpuUsPerRead, 2)} µs`,
        color: GREY,
        dash: "6 4",
      });
      if (low.length > 0)
        cpuRefs.push({
          value: page0.cpuUsPerRead / 0.95,
          label: `target up to 500 w/s: no-write ÷ 0.95 = ${num(page0.cpuUsPerRead / 0.95, 2)} µs`,
          color: RED,
          dash: "2 3",
          rates: low,
        });
      if (high.length > 0)
        cpuRefs.push({
          value: page0.cpuUsPerRead / 0.9,
          label: `target at 2,000 w/s: ÷ 0.90 = ${num(page0.cpuUsPerRead / 0.9, 2)} µs`,
          color: RED,
          dash: "1 2",
          rates: high,
        });
      p99Refs.push(
        {
          value: page0.p99Ms,
          label: `no writes: ${num(page0.p99Ms, 2)} ms`,
          color: GREY,
          dash: "6 4",
        },
        {
          value: page0.p99Ms * 1.5,
          label: `target: 1.5 × no-write = ${num(page0.p99Ms * 1.5, 2)} ms`,
          color: RED,
          dash: "2 3",
        },
      );
    }
    const series = (f: (s: WorldSummary) => number): Series[] => [
      {
        label: "GET /todos?limit=100, whole fleet",
        color: BLUE,
        width: 3,
        values: map(page, f),
        labelled: true,
      },
    ];
    blocks.push(
      panel({
        left: LEFTS[0] as number,
        top: top1,
        title: "Page 1: fleet CPU per read (lower is better)",
        unit: "µs CPU per read (all processes)",
        rates: rates1,
        series: series((s) => s.cpuUsPerRead),
        refs: [...cpuRefs, ...floor],
        xNotes: notes(page),
        digits: 2,
      }),
      panel({
        left: LEFTS[1] as number,
        top: top1,
        title: "Page 1: read p99 (wrk)",
        unit: "ms",
        rates: rates1,
        series: series((s) => s.p99Ms),
        refs: p99Refs,
        xNotes: notes(page),
        digits: 2,
      }),
    );
  }
  const top2 = page.length > 0 ? top1 + ROW : top1;
  if (ids.length + walk.length > 0) {
    const series = (f: (s: WorldSummary) => number): Series[] => [
      {
        label: "GET /todos/:id, 5,000 ids at random",
        color: ORANGE,
        width: 2.2,
        values: map(ids, f),
        labelled: true,
      },
      {
        label: "pages 1-50 of a walk at random",
        color: PURPLE,
        width: 2.2,
        values: map(walk, f),
        labelled: true,
      },
    ];
    const refsFor = (f: (s: WorldSummary) => number, factor: number, unit: string): Ref[] => {
      const out: Ref[] = [];
      for (const [s, color, what] of [
        [ids0, ORANGE, "ids"],
        [walk0, PURPLE, "pages"],
      ] as const) {
        if (s === undefined) continue;
        out.push(
          { value: f(s), label: `${what}, no writes: ${num(f(s), 2)} ${unit}`, color, dash: "6 4" },
          {
            value: f(s) * factor,
            label: `${what}, target ${factor} × no-write = ${num(f(s) * factor, 2)} ${unit}`,
            color,
            dash: "1 3",
            rates: rates2.filter((r) => r > 0),
          },
        );
      }
      return out;
    };
    blocks.push(
      panel({
        left: LEFTS[0] as number,
        top: top2,
        title: "Random ids and pages: fleet CPU per read",
        unit: "µs CPU per read (all processes)",
        rates: rates2,
        series: series((s) => s.cpuUsPerRead),
        refs: [...refsFor((s) => s.cpuUsPerRead, 1.3, "µs"), ...floor],
        xNotes: notes(ids),
        digits: 2,
      }),
      panel({
        left: LEFTS[1] as number,
        top: top2,
        title: "Random ids and pages: read p99 (wrk)",
        unit: "ms",
        rates: rates2,
        series: series((s) => s.p99Ms),
        refs: refsFor((s) => s.p99Ms, 2, "ms"),
        xNotes: notes(ids),
        digits: 2,
      }),
    );
  }
  const height = top2 + (ids.length + walk.length > 0 ? ROW : 0) - 20;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="Helvetica, Arial, sans-serif">
<rect width="${W}" height="${height}" fill="#fff"/>
<text x="20" y="32" font-size="19" font-weight="700">${esc(input.title)}</text>
<text x="20" y="54" font-size="12" fill="#444">${esc(input.subtitle)}</text>
${blocks.join("\n")}
</svg>
`;
}
