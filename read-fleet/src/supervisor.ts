import { type ChildProcess, fork } from "node:child_process";
import { startAdminServer } from "@million-rps/shared/admin-server";
import type { Logger } from "@million-rps/shared/log";
import { Counter, Gauge, Registry } from "prom-client";
import type { ReadFleetConfig } from "./config";
import {
  mergeFleetMetrics,
  monotonicPart,
  type ProcessMetrics,
  retire,
} from "./fleet-metrics-merge";
import { PROCESS_INDEX_VARIABLE, ROLE_VARIABLE, type ToProcess, type ToSupervisor } from "./ipc";

interface ProcessSlot {
  index: number;
  child: ChildProcess | undefined;
  ready: boolean;
  startedAt: number;
  crashes: number;
  /** The last metrics this slot's current process answered with. */
  lastSeen: ProcessMetrics | undefined;
}

export interface SupervisorOptions {
  /** Script the processes run (this same entry point), its arguments and Node flags (tsx loader). */
  entry: string;
  args?: readonly string[];
  execArgv?: readonly string[];
}

const STABLE_AFTER_MS = 10_000;
const METRICS_TIMEOUT_MS = 1_000;

const INITIAL_OLD_SPACE_FLAG = "--initial-old-space-size";

/**
 * The Node flags of a uWS process: the supervisor's own (the tsx loader), and V8's
 * initial old-space size from READ_INITIAL_OLD_SPACE_MB unless the flags already set
 * one. Why: a refresh's new bytes live outside the heap, and V8 starts a full
 * collection once enough of them were allocated since the last; from its small
 * default start that was twice a second per process at 300 updates/s, each marking
 * every held answer. Measured on one process holding 50 pages and 5,000 todos, 300
 * updates/s, no reads: 13-19 full collections per 10 s and 121-227 ms of CPU per second
 * by default; 2-6 and 90-106 ms/s from 64-256 MB, for the same resident memory (~210 MB).
 */
export function processExecArgv(parent: readonly string[], initialOldSpaceMb: number): string[] {
  const own = parent.some((f) => f.startsWith(INITIAL_OLD_SPACE_FLAG));
  if (own || initialOldSpaceMb === 0) return [...parent];
  return [...parent, `${INITIAL_OLD_SPACE_FLAG}=${initialOldSpaceMb}`];
}

/**
 * Sends on a process's IPC channel. The process may have died after the caller checked
 * `connected` and before the parent noticed: the EPIPE then comes to `onFailed`, not
 * as an 'error' event that would crash the supervisor.
 */
export function sendToProcess(child: ChildProcess, message: ToProcess, onFailed: () => void): void {
  child.send(message, (err) => {
    if (err !== null) onFailed();
  });
}

/**
 * READ_PROCESSES uWS processes, all listening on HTTP_PORT (uWS sets SO_REUSEPORT,
 * so the kernel spreads connections). A process that dies is restarted with a
 * capped backoff; SIGTERM drains every process, then exits. The admin port
 * serves /metrics merged from all processes.
 */
export async function runSupervisor(
  config: ReadFleetConfig,
  log: Logger,
  options: SupervisorOptions,
): Promise<void> {
  const registry = new Registry();
  const restarts = new Counter({
    name: "read_fleet_process_restarts_total",
    help: "uWS processes restarted after dying.",
    registers: [registry],
  });
  const alive = new Gauge({
    name: "read_fleet_processes",
    help: "uWS processes serving now.",
    registers: [registry],
  });
  /** Counters and histograms of exited processes, so fleet totals never go down. */
  let retired: ProcessMetrics = [];
  const slots: ProcessSlot[] = Array.from({ length: config.processes }, (_, index) => ({
    index,
    child: undefined,
    ready: false,
    startedAt: 0,
    crashes: 0,
    lastSeen: undefined,
  }));
  let stopping = false;
  let booted = false;
  let nextRequest = 1;
  const replies = new Map<number, (metrics: ProcessMetrics) => void>();
  let bootFailed: ((err: Error) => void) | undefined;
  let bootDone: (() => void) | undefined;
  const boot = new Promise<void>((resolve, reject) => {
    bootDone = resolve;
    bootFailed = reject;
  });

  function start(slot: ProcessSlot): void {
    const child = fork(options.entry, [...(options.args ?? [])], {
      env: {
        ...process.env,
        [ROLE_VARIABLE]: "process",
        [PROCESS_INDEX_VARIABLE]: String(slot.index),
      },
      execArgv: processExecArgv(options.execArgv ?? process.execArgv, config.initialOldSpaceMb),
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    slot.child = child;
    slot.ready = false;
    slot.startedAt = Date.now();
    child.on("message", (message: ToSupervisor) => {
      if (message.type === "ready") {
        slot.ready = true;
        alive.set(slots.filter((s) => s.ready).length);
        if (!booted && slots.every((s) => s.ready)) {
          booted = true;
          bootDone?.();
        }
      } else if (message.type === "metrics") {
        replies.get(message.id)?.(message.metrics);
      }
    });
    // IPC errors (a send racing the process's death) must not take the supervisor down.
    child.on("error", (err) => log.warn("process channel error", { process: slot.index, err }));
    child.on("exit", (code, signal) => {
      slot.child = undefined;
      slot.ready = false;
      if (slot.lastSeen !== undefined) retired = retire(retired, slot.lastSeen);
      slot.lastSeen = undefined;
      alive.set(slots.filter((s) => s.ready).length);
      if (stopping) return;
      if (!booted) {
        bootFailed?.(new Error(`process ${slot.index} exited during start-up (code ${code})`));
        return;
      }
      slot.crashes = Date.now() - slot.startedAt > STABLE_AFTER_MS ? 1 : slot.crashes + 1;
      const delay = Math.min(100 * 2 ** (slot.crashes - 1), 5_000);
      log.error("process died; restarting", { process: slot.index, code, signal, in_ms: delay });
      restarts.inc();
      setTimeout(() => {
        if (!stopping) start(slot);
      }, delay);
    });
  }

  async function processMetrics(slot: ProcessSlot): Promise<ProcessMetrics | null> {
    const child = slot.child;
    if (child === undefined || !slot.ready || !child.connected) return null;
    const id = nextRequest++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        replies.delete(id);
        resolve(null);
      }, METRICS_TIMEOUT_MS);
      replies.set(id, (metrics) => {
        clearTimeout(timer);
        replies.delete(id);
        // An answer from a process that has exited since is already counted in `retired`.
        resolve(slot.child === child ? metrics : null);
      });
      sendToProcess(child, { type: "metrics", id }, () => {
        clearTimeout(timer);
        replies.delete(id);
        resolve(null);
      });
    });
  }

  /**
   * Every process's metrics, merged (fleet-metrics-merge.ts). A process that does not
   * answer in time still counts with the counters it last reported.
   */
  async function metrics(): Promise<string> {
    const answers = await Promise.all(slots.map(processMetrics));
    const live = slots.flatMap((slot, i) => {
      const answer = answers[i] ?? null;
      if (answer !== null && slot.child !== undefined) slot.lastSeen = answer;
      const metrics = answer ?? (slot.lastSeen && monotonicPart(slot.lastSeen));
      return metrics === undefined ? [] : [{ process: String(i), metrics }];
    });
    return mergeFleetMetrics(live, retired, registry).metrics();
  }

  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info("read fleet stopping", { signal });
    const exits = slots.map(
      (slot) =>
        new Promise<void>((resolve) => {
          const child = slot.child;
          if (child === undefined || child.exitCode !== null) return resolve();
          const killer = setTimeout(() => child.kill("SIGKILL"), config.shutdownGraceMs + 3_000);
          child.once("exit", () => {
            clearTimeout(killer);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    );
    await Promise.all(exits);
    await admin?.close();
    log.info("read fleet stopped");
    process.exit(0);
  }

  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  // The merged metrics, and a /healthz that answers while the supervisor does.
  const admin = await startAdminServer(config.adminHost, config.adminPort, {
    metrics,
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,
  });
  for (const slot of slots) start(slot);
  try {
    await boot;
  } catch (err) {
    stopping = true;
    for (const slot of slots) slot.child?.kill("SIGKILL");
    await admin.close();
    throw err;
  }
  log.info("read fleet ready", {
    port: config.httpPort,
    processes: config.processes,
    admin_port: admin.port,
    pids: slots.map((s) => s.child?.pid),
  });
}
