import { cacheKeys } from "@million-rps/shared";
import { startAdminServer } from "@million-rps/shared/admin-server";
import { createKafka } from "@million-rps/shared/kafka";
import type { Logger } from "@million-rps/shared/log";
import { sampleSum } from "@million-rps/shared/metrics";
import { createLogger } from "@million-rps/shared/pino-logger";
import { Partitioners } from "kafkajs";
import { AppliedOffsets, OFFSET_COMMIT_INTERVAL_MS } from "./applied-offsets";
import { ApplyQueue } from "./apply-queue";
import { ChangePublisher } from "./change-publisher";
import { ChangeRelay } from "./change-relay";
import { createPool, createRedis } from "./clients";
import { CommandPruner } from "./command-pruner";
import type { WorkerConfig } from "./config";
import { createWorkerMetrics, type WorkerMetrics } from "./metrics";
import { createBatchHandler } from "./partition-batch";
import { RecentCommands } from "./recent-commands";

/** Partitions whose slices may wait for the apply queue at once (kafkajs holds their batches). */
const PARTITIONS_IN_FLIGHT = 64;

/** Command ids remembered to recognise duplicate sends without a lookup (~100 bytes each). */
const RECENT_COMMANDS = 50_000;

export interface WorkerHandle {
  readonly adminPort: number;
  readonly metrics: WorkerMetrics;
  /** Settles when the worker ends: "stopped" after stop(), "crashed" if the consumer gave up. */
  readonly finished: Promise<"stopped" | "crashed">;
  /** Finishes the slice in flight, commits it, leaves the group, closes every client. */
  stop(): Promise<void>;
}

/** Starts consuming; resolves once the consumer joined its group and the admin port listens. */
export async function startWorker(
  config: WorkerConfig,
  options: { log?: Logger } = {},
): Promise<WorkerHandle> {
  const log = options.log ?? createLogger("worker", { level: config.logLevel });
  const metrics = createWorkerMetrics();
  const pool = createPool(config, log);
  const redis = createRedis(config, log);
  const keys = cacheKeys(config.cacheKeyPrefix);
  const relay = new ChangeRelay({
    redis,
    keys,
    publisher: new ChangePublisher({
      pool,
      redis,
      keys,
      hotPages: config.hotPages,
      ttlSec: config.cacheTtlSec,
      cachedPagesMax: config.cachedPagesMax,
      cachedPagesPushBytes: config.cachedPagesPushBytes,
      log,
      metrics,
    }),
    minIntervalMs: config.generationMinIntervalMs,
    leaseMs: config.publisherLeaseMs,
    log,
    metrics,
  });
  const pruner = new CommandPruner({
    pool,
    retentionHours: config.commandRetentionHours,
    batch: 5_000,
    intervalMs: 60_000,
    metrics,
    log,
  });
  const kafka = await createKafka(config.kafka, "million-rps-worker", log);
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer = kafka.consumer({
    groupId: config.groupId,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(config.sessionTimeoutMs / 10)),
    allowAutoTopicCreation: false,
    // The broker answers a fetch once 32 KiB are there or 25 ms have passed. At low
    // rates this gathers ~25 ms of commands per round instead of one round (a fetch,
    // a statement, a cache move) per command or two: a quarter of the CPU, for at most
    // 25 ms of latency. Under load 32 KiB is always there, so nothing waits.
    maxWaitTimeInMs: 25,
    minBytes: 32 * 1024,
  });

  let finish: (how: "stopped" | "crashed") => void = () => {};
  const finished = new Promise<"stopped" | "crashed">((resolve) => {
    finish = resolve;
  });
  let healthy = true;
  const offsets = new AppliedOffsets();
  const queue = new ApplyQueue({
    pool,
    recent: new RecentCommands(RECENT_COMMANDS),
    batchSize: config.batchSize,
    concurrency: config.concurrency,
    metrics,
    onChanged: (changes) => relay.publish(changes),
  });
  const joined = new Promise<void>((resolve, reject) => {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      offsets.forget();
      // A member that died may have committed a batch without publishing its changes
      // (its offsets may even be committed). After each rebalance one member, the
      // leader, publishes a reset: readers refresh what they hold, still serving it.
      if (e.payload.isLeader) relay.reset();
      log.info("joined group", {
        group: config.groupId,
        partitions: e.payload.memberAssignment[config.topic] ?? [],
      });
      resolve();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      log.error("consumer crashed", { err: e.payload.error, restart: e.payload.restart });
      if (e.payload.restart) return;
      healthy = false;
      // Another worker publishes from now on (this one stops renewing the lease).
      void relay.stop();
      reject(e.payload.error);
      finish("crashed");
    });
  });

  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [config.topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    // With autoCommit off this only paces our commitOffsetsIfNecessary() calls.
    autoCommitInterval: OFFSET_COMMIT_INTERVAL_MS,
    eachBatchAutoResolve: false,
    // Every assigned partition may have a slice waiting; the queue bounds the transactions.
    partitionsConsumedConcurrently: PARTITIONS_IN_FLIGHT,
    eachBatch: createBatchHandler({
      queue,
      pool,
      producer,
      dlqTopic: config.dlqTopic,
      batchSize: config.batchSize,
      offsets,
      metrics,
      log,
    }),
  });
  const admin = await startAdminServer(config.adminHost, config.adminPort, {
    metrics: () => metrics.registry.metrics(),
    contentType: metrics.registry.contentType,
    healthy: () => healthy,
  });
  relay.start();
  await joined;
  const progress = reportProgress(metrics, log);
  pruner.start();
  log.info("ready", {
    topic: config.topic,
    group: config.groupId,
    concurrency: config.concurrency,
    batch_size: config.batchSize,
    admin_port: admin.port,
  });

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      log.info("stopping");
      clearInterval(progress);
      await pruner.stop();
      // Finish the slices in flight and commit everything applied while still in the group.
      const applied = await offsets.drain();
      if (applied.length > 0) {
        await consumer.commitOffsets(applied).catch((err: unknown) => {
          log.warn("could not commit offsets on stop; they will be redelivered and skipped", {
            err,
          });
        });
      }
      await consumer.disconnect();
      // Make the last committed slice visible before leaving (bounded: Redis may be down).
      const flushed = await relay.flush(5_000);
      await relay.stop();
      await producer.disconnect().catch(() => {});
      await admin.close();
      await pool.end().catch(() => {});
      redis.disconnect();
      log.info("stopped", { cache_flushed: flushed });
      finish("stopped");
    })();
    return stopping;
  };
  return { adminPort: admin.port, metrics, finished, stop };
}

/** One info line every 10 s while commands flow, so logs show throughput without debug level. */
function reportProgress(metrics: WorkerMetrics, log: Logger): NodeJS.Timeout {
  const outcomes = [
    "applied",
    "rejected_forbidden",
    "rejected_not_found",
    "rejected_invalid",
    "duplicate",
    "dead_letter",
  ];
  let last = 0;
  const report = async () => {
    const counts = Object.fromEntries(
      await Promise.all(
        outcomes.map(async (o) => [o, await sampleSum(metrics.commands, { outcome: o })] as const),
      ),
    );
    // rejected_invalid counts dead letters a second time (when recorded): not in the rate.
    const total = Object.entries(counts)
      .filter(([o]) => o !== "rejected_invalid")
      .reduce((sum, [, n]) => sum + n, 0);
    if (total === last) return;
    log.info("progress", { ...counts, per_sec: Math.round((total - last) / 10) });
    last = total;
  };
  const timer = setInterval(() => {
    report().catch((err: unknown) => log.warn("progress line failed", { err }));
  }, 10_000);
  timer.unref();
  return timer;
}
