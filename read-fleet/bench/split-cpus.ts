import { execFileSync } from "node:child_process";
import { ownedProcesses } from "@million-rps/local";

/**
 * BENCH_WORLD_SPLIT=1: the read side on one CPU, the write side on the other, as on
 * AWS, where the write path (Lambda, MSK, the worker's ECS tasks, RDS) never runs on
 * a reader's cores. The read fleet's processes go on `readCpu` (wrk and the controls
 * are started there by the caller); Postgres, Redis, Kafka, the worker, the write
 * adapter and this bench process (its write stream, the pipelining client) on
 * `writeCpu`. Processes the stack starts later (the cold start's new read fleet, new
 * Postgres backends) are pinned at the next scan, every 200 ms.
 */
export class SplitCpus {
  private readonly pinned = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly root: string,
    readonly readCpu: string,
    readonly writeCpu: string,
  ) {
    pin(process.pid, writeCpu);
    this.scan();
    this.timer = setInterval(() => this.scan(), 200);
    this.timer.unref();
  }

  /** Pins every process of the stack not pinned yet. */
  private scan(): void {
    for (const p of ownedProcesses(this.root)) {
      const key = `${p.pid}:${p.startTicks}`;
      if (this.pinned.has(key)) continue;
      pin(p.pid, p.part === "read-fleet" ? this.readCpu : this.writeCpu);
      this.pinned.add(key);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Every thread of `pid` (and so the threads and children it starts later) on `cpu`. */
function pin(pid: number, cpu: string): void {
  try {
    execFileSync("taskset", ["-a", "-p", "-c", cpu, String(pid)], { stdio: "ignore" });
  } catch {
    // gone meanwhile
  }
}
