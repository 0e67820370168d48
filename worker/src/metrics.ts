import { SECONDS_BUCKETS } from "@million-rps/shared/metrics";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** What the worker exposes on /metrics: batches, commands by outcome, lag, apply time, cache moves. */
export function createWorkerMetrics() {
  const registry = new Registry();
  const registers = [registry];
  const buckets = [...SECONDS_BUCKETS];
  return {
    registry,
    batches: new Counter({
      name: "worker_batches_total",
      help: "Transactions committed (one per slice of a batch)",
      registers,
    }),
    commands: new Counter({
      name: "worker_commands_total",
      help: "Commands by outcome: applied, rejected_forbidden, rejected_not_found, duplicate, dead_letter, rejected_invalid (refused commands recorded for GET /commands/:id, a subset of dead_letter)",
      labelNames: ["outcome"],
      registers,
    }),
    applySeconds: new Histogram({
      name: "worker_apply_seconds",
      help: "Time to apply one slice in Postgres",
      buckets,
      registers,
    }),
    redone: new Counter({
      name: "worker_batches_redone_total",
      help: "Slices whose optimistic attempt met a recorded command or an existing id and were redone reading everything",
      registers,
    }),
    retries: new Counter({
      name: "worker_retries_total",
      help: "Retried batch attempts by error name",
      labelNames: ["error"],
      registers,
    }),
    lag: new Gauge({
      name: "worker_partition_lag",
      help: "Records behind the high watermark, by partition",
      labelNames: ["partition"],
      registers,
    }),
    generation: new Gauge({
      name: "worker_generation",
      help: "Cache generation of this worker's last published change set",
      registers,
    }),
    generationSeconds: new Histogram({
      name: "worker_generation_move_seconds",
      help: "One change publication: allocate a generation, refill the hot pages it touches, publish",
      buckets,
      registers,
    }),
    publisher: new Gauge({
      name: "worker_publisher",
      help: "1 while this worker holds the lease and publishes change sets for the whole fleet",
      registers,
    }),
    generationFailures: new Counter({
      name: "worker_generation_move_failures_total",
      help: "Change publications and hand-offs to the publisher that failed and were retried",
      registers,
    }),
    handoffOverflows: new Counter({
      name: "worker_handoff_overflows_total",
      help: "Times the hand-off stream held more unpublished changes than its bound and was replaced by one reset",
      registers,
    }),
    changesPublished: new Counter({
      name: "worker_cache_changes_published_total",
      help: "Todo changes published to the read fleet (one per todo per publication)",
      registers,
    }),
    commandsPruned: new Counter({
      name: "worker_commands_pruned_total",
      help: "Command records deleted after COMMAND_RETENTION_HOURS",
      registers,
    }),
    todoEntriesRead: new Counter({
      name: "worker_todo_entries_read_total",
      help: "Changed todos that existed before, read back in one query per publication and written to L2 where a reader cached them",
      registers,
    }),
    cacheQueries: new Counter({
      name: "worker_cache_queries_total",
      help: "Postgres queries the change publications made: one per hot page and cached cursor page read again, one per publication for the cached todos",
      registers,
    }),
    cachedPagesRead: new Counter({
      name: "worker_cached_pages_read_total",
      help: "Cursor pages a reader cached that a change landed in, read again and written to L2 for the fleet",
      registers,
    }),
    cachedPagesLeft: new Counter({
      name: "worker_cached_pages_left_total",
      help: "Cursor pages a change landed in that were left to their readers (past CACHED_PAGES_MAX in one publication)",
      registers,
    }),
    todoEntriesPushed: new Counter({
      name: "worker_todo_entries_pushed_total",
      help: "Changed todos written to L2 for the fleet that were also pushed with their publication (within CACHED_PAGES_PUSH_BYTES, before the cursor pages)",
      registers,
    }),
    cachedPagesPushed: new Counter({
      name: "worker_cached_pages_pushed_total",
      help: "Cursor pages read again for the fleet that were also pushed with their publication (within CACHED_PAGES_PUSH_BYTES)",
      registers,
    }),
    hotPagesWritten: new Counter({
      name: "worker_hot_pages_written_total",
      help: "Hot pages read again and written to L2 because a change touched them",
      registers,
    }),
    hotPagesPushed: new Counter({
      name: "worker_hot_pages_pushed_total",
      help: "Hot pages written to L2 and pushed to the readers with their publication (small enough to push)",
      registers,
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
