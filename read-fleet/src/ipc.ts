import type { ProcessMetrics } from "./fleet-metrics-merge";

/** Messages between the supervisor and the uWS processes it forks (Node IPC channel). */
export type ToProcess = { type: "metrics"; id: number };
export type ToSupervisor =
  | { type: "ready"; port: number; pid: number }
  | { type: "metrics"; id: number; metrics: ProcessMetrics };

export const ROLE_VARIABLE = "READ_FLEET_ROLE";
export const PROCESS_INDEX_VARIABLE = "READ_PROCESS_INDEX";
