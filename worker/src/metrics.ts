import { Registry } from "@million-rps/shared";

/** What the worker exposes on /metrics: batches, commands by outcome, lag, apply time, cache moves. */
export function createWorkerMetrics() {
  const registry = new Registry();
  return {
    registry,
    batches: registry.counter(
      "worker_batches_total",
      "Transactions committed (one per slice of a batch)",
    ),
    commands: registry.counter(
      "worker_commands_total",
      "Commands by outcome: applied, rejected_forbidden, rejected_not_found, duplicate, dead_letter, rejected_invalid (refused commands recorded for GET /commands/:id, a subset of dead_letter)",
    ),
    applySeconds: registry.histogram("worker_apply_seconds", "Time to apply one slice in Postgres"),
    redone: registry.counter(
      "worker_batches_redone_total",
      "Slices whose optimistic attempt met a recorded command or an existing id and were redone reading everything",
    ),
    retries: registry.counter("worker_retries_total", "Retried batch attempts by error name"),
    lag: registry.gauge("worker_partition_lag", "Records behind the high watermark, by partition"),
    generation: registry.gauge("worker_generation", "Last cache generation this worker moved to"),
    generationSeconds: registry.histogram(
      "worker_generation_move_seconds",
      "Allocate, refill hot pages, publish",
    ),
    generationFailures: registry.counter(
      "worker_generation_move_failures_total",
      "Cache generation moves that failed and were retried",
    ),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
