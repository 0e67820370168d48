import { readdirSync, readFileSync } from "node:fs";
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";

/**
 * What the load cost, so the report can tell a stack that kept up from a client
 * that starved it (or starved itself): the soak's own CPU and event-loop delay, the
 * CPU of every process of this soak's stack by part (from /proc: the harness marks
 * each process it starts, and its children, with MRPS_PART and MRPS_PART_DIR), and
 * the whole machine's (which includes whatever else runs on it).
 */
export interface LoadFigures {
  seconds: number;
  /** The soak process (clients, recorder), in % of one core. */
  clientCpuPct: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** This soak's stack by part (read-fleet, worker, write-api, postgres, redis, kafka), % of one core. */
  stackCpuPct: Record<string, number>;
  /** All cores of the machine together, % of one core (200 = both cores busy), and the core count. */
  machineCpuPct: number;
  cores: number;
  /** The 1-minute load average when traffic started (others' work on a shared box shows here). */
  loadAvgAtStart: number;
}

const TICKS = 100; // USER_HZ on Linux
const RESOLUTION_MS = 10;
/** The histogram holds whole intervals between its timer's runs: the delay is what exceeds the resolution. */
const delayMs = (ns: number) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 10) / 10);

function machineTicks(): { busy: number; total: number; cores: number } {
  const lines = readFileSync("/proc/stat", "utf8").split("\n");
  const cpu = (lines[0] ?? "").split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return { busy: total - idle, total, cores: lines.filter((l) => /^cpu\d/.test(l)).length };
}

/** utime+stime in ticks and the harness's part, of processes whose MRPS_PART_DIR is under `root`. */
function stackTicks(
  root: string,
  extra: Map<number, string>,
): Map<number, { part: string; ticks: number }> {
  const out = new Map<number, { part: string; ticks: number }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      let part = extra.get(pid);
      if (part === undefined) {
        const env = readFileSync(`/proc/${pid}/environ`, "latin1");
        const dir = /(?:^|\0)MRPS_PART_DIR=([^\0]*)/.exec(env)?.[1];
        if (dir === undefined || !dir.startsWith(root)) continue;
        part = /(?:^|\0)MRPS_PART=([^\0]*)/.exec(env)?.[1] ?? "other";
      }
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(pid, { part, ticks: Number(f[11]) + Number(f[12]) });
    } catch {} // ended while we looked, or not ours to read
  }
  return out;
}

export class LoadMeter {
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly t0 = process.hrtime.bigint();
  private readonly cpu0 = process.cpuUsage();
  private readonly machine0 = machineTicks();
  private readonly loadAvg = Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  /** First and latest ticks seen per pid (a process that ends keeps its last sample). */
  private readonly seen = new Map<number, { part: string; first: number; last: number }>();
  private readonly timer: NodeJS.Timeout;
  private firstScan = true;

  /** `extra`: pids the /proc marks miss (redis-server may overwrite its environment), with their part. */
  constructor(
    private readonly root: string,
    private readonly extra: () => Map<number, string>,
  ) {
    this.loop.enable();
    this.scan();
    this.timer = setInterval(() => this.scan(), 2000);
  }

  private scan(): void {
    for (const [pid, { part, ticks }] of stackTicks(this.root, this.extra())) {
      const s = this.seen.get(pid);
      // A process first seen after the start counts from zero (it started meanwhile).
      if (s === undefined)
        this.seen.set(pid, { part, first: this.firstScan ? ticks : 0, last: ticks });
      else s.last = ticks;
    }
    this.firstScan = false;
  }

  stop(): LoadFigures {
    clearInterval(this.timer);
    this.scan();
    this.loop.disable();
    const seconds = Number(process.hrtime.bigint() - this.t0) / 1e9;
    const cpu = process.cpuUsage(this.cpu0);
    const m = machineTicks();
    const stack: Record<string, number> = {};
    for (const s of this.seen.values())
      stack[s.part] = (stack[s.part] ?? 0) + (s.last - s.first) / TICKS;
    const pct = (cpuSeconds: number) => Math.round((1000 * cpuSeconds) / seconds) / 10;
    return {
      seconds: Math.round(seconds),
      clientCpuPct: pct((cpu.user + cpu.system) / 1e6),
      eventLoopDelayMs: {
        p50: delayMs(this.loop.percentile(50)),
        p99: delayMs(this.loop.percentile(99)),
        max: delayMs(this.loop.max),
      },
      stackCpuPct: Object.fromEntries(
        Object.entries(stack)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([part, s]) => [part, pct(s)]),
      ),
      machineCpuPct:
        Math.round(
          (1000 * m.cores * (m.busy - this.machine0.busy)) /
            Math.max(1, m.total - this.machine0.total),
        ) / 10,
      cores: m.cores,
      loadAvgAtStart: this.loadAvg,
    };
  }
}
