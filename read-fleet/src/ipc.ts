import type { ProcessMetrics } from "./fleet-metrics-merge";

/** Messages between the supervisor and its worker processes (Node IPC channel). */
export type ToWorker = { type: "metrics"; id: number };
export type ToSupervisor =
  | { type: "ready"; port: number; pid: number }
  | { type: "metrics"; id: number; metrics: ProcessMetrics };

export const ROLE_VARIABLE = "READ_FLEET_ROLE";
export const WORKER_INDEX_VARIABLE = "READ_WORKER_INDEX";
