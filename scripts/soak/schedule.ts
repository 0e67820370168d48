/**
 * The faults the soak injects, in the order of one cycle: SIGKILL a read-fleet
 * process (its supervisor replaces it), stop Redis, SIGKILL the Postgres postmaster
 * (then start it again: crash recovery), SIGKILL the worker, stop the Kafka broker.
 */
export const FAULT_KINDS = ["read-worker", "redis", "postgres", "worker", "kafka"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  kind: FaultKind;
  /** Milliseconds after traffic starts. */
  at: number;
  /** How long the dependency stays down before it is started again (0: killed, restarted by its supervisor). */
  downMs: number;
}

export interface SoakPlan {
  durationMs: number;
  /** Steady traffic after the last fault's window, however late it closes. */
  tailMs: number;
  faults: PlannedFault[];
}

/** Seconds down per fault at full scale; a short soak scales them down with the spacing. */
const DOWN_SEC: Record<FaultKind, number> = {
  "read-worker": 0,
  redis: 15,
  postgres: 15,
  worker: 15,
  kafka: 20,
};

/**
 * Faults evenly spread between a warm-up and a quiet tail: every kind once per
 * four minutes (at least once), in the cycle order of FAULT_KINDS.
 * Pure, so the plan is the same for the same duration.
 */
export function planSoak(minutes: number): SoakPlan {
  const durationMs = Math.round(minutes * 60_000);
  const warmup = Math.min(30_000, durationMs * 0.1);
  const tail = Math.min(45_000, durationMs * 0.15);
  const cycles = Math.max(1, Math.floor(minutes / 4));
  const count = cycles * FAULT_KINDS.length;
  const spacing = (durationMs - warmup - tail) / count;
  const faults: PlannedFault[] = [];
  for (let i = 0; i < count; i++) {
    const kind = FAULT_KINDS[i % FAULT_KINDS.length] as FaultKind;
    // Down for at most 40% of the gap, so the stack is back before the next fault.
    const downMs = Math.round(Math.min(DOWN_SEC[kind] * 1000, spacing * 0.4));
    faults.push({ kind, at: Math.round(warmup + i * spacing), downMs });
  }
  return { durationMs, tailMs: tail, faults };
}
