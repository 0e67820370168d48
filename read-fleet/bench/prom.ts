/** Reads Prometheus text from an admin port and takes differences between two scrapes. */

export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

export type Scrape = readonly Sample[];

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseProm(text: string): Scrape {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? "").matchAll(LABEL)) labels[l[1] as string] = l[2] as string;
    const value = Number(m[4]);
    if (Number.isFinite(value)) out.push({ name: m[1] as string, labels, value });
  }
  return out;
}

export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return parseProm(await res.text());
}

/** Scrapes, or an empty scrape (and says why) when the port does not answer: a figure is missing, not the run. */
export async function scrapeOrEmpty(url: string, onError: (msg: string) => void): Promise<Scrape> {
  try {
    return await scrape(url);
  } catch (err) {
    onError(`could not scrape ${url}: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
}

/** Sum of every sample of `name` whose labels include `match` (all processes, every other label). */
export function total(s: Scrape, name: string, match: Record<string, string | string[]> = {}) {
  let sum = 0;
  for (const x of s) {
    if (x.name !== name) continue;
    let ok = true;
    for (const [k, want] of Object.entries(match)) {
      const v = x.labels[k];
      if (v === undefined || (Array.isArray(want) ? !want.includes(v) : v !== want)) {
        ok = false;
        break;
      }
    }
    if (ok) sum += x.value;
  }
  return sum;
}

export function delta(
  before: Scrape,
  after: Scrape,
  name: string,
  match: Record<string, string | string[]> = {},
): number {
  return total(after, name, match) - total(before, name, match);
}

export interface HistogramDelta {
  count: number;
  /** Seconds. */
  mean: number;
  p50: number;
  p99: number;
}

/**
 * The observations of histogram `name` between two scrapes, summed over processes:
 * mean from _sum/_count, quantiles interpolated inside the cumulative buckets as
 * Prometheus' histogram_quantile does (so they are bounded by the bucket edges).
 */
export function histogramDelta(before: Scrape, after: Scrape, name: string): HistogramDelta {
  const bucketName = `${name}_bucket`;
  const edges = new Map<number, number>();
  for (const x of after) {
    if (x.name !== bucketName) continue;
    const le = x.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(x.labels.le);
    if (!edges.has(le)) edges.set(le, delta(before, after, bucketName, { le: x.labels.le ?? "" }));
  }
  const count = delta(before, after, `${name}_count`);
  const sum = delta(before, after, `${name}_sum`);
  const sorted = [...edges.entries()].sort((a, b) => a[0] - b[0]);
  const quantile = (q: number): number => {
    if (count <= 0) return Number.NaN;
    const rank = q * count;
    let prevEdge = 0;
    let prevCount = 0;
    for (const [edge, cumulative] of sorted) {
      if (cumulative >= rank) {
        if (!Number.isFinite(edge)) return prevEdge; // beyond the last bucket: its lower edge
        const inBucket = cumulative - prevCount;
        return inBucket <= 0
          ? edge
          : prevEdge + ((edge - prevEdge) * (rank - prevCount)) / inBucket;
      }
      prevEdge = edge;
      prevCount = cumulative;
    }
    return prevEdge;
  };
  return {
    count,
    mean: count > 0 ? sum / count : Number.NaN,
    p50: quantile(0.5),
    p99: quantile(0.99),
  };
}
