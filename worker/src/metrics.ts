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
    generation: registry.gauge(
      "worker_generation",
      "Cache generation of this worker's last published change set",
    ),
    generationSeconds: registry.histogram(
      "worker_generation_move_seconds",
      "One change publication: allocate a generation, refill the hot pages it touches, publish",
    ),
    generationFailures: registry.counter(
      "worker_generation_move_failures_total",
      "Change publications that failed and were retried",
    ),
    changesPublished: registry.counter(
      "worker_cache_changes_published_total",
      "Todo changes published to the read fleet (one per todo per publication)",
    ),
    commandsPruned: registry.counter(
      "worker_commands_pruned_total",
      "Command records deleted after COMMAND_RETENTION_HOURS",
    ),
    todoEntriesRead: registry.counter(
      "worker_todo_entries_read_total",
      "Changed todos that existed before, read back in one query per publication and written to L2 where a reader cached them",
    ),
    hotPagesWritten: registry.counter(
      "worker_hot_pages_written_total",
      "Hot pages read again and written to L2 because a change touched them",
    ),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
