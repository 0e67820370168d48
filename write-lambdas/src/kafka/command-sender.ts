import { type CommandEnvelope, DependencyError, encodeCommand } from "@million-rps/shared";
import {
  createKafka,
  type KafkaConnection,
  kafkajsLogCreator,
  resolveBrokers,
} from "@million-rps/shared/kafka";
import type { Logger } from "@million-rps/shared/log";
import { Partitioners, type Producer } from "kafkajs";
import { producerSockets } from "./producer-sockets";

/** Puts one command on the log; resolves only once every in-sync replica has it. */
export interface CommandSender {
  /** Starts connecting if not yet connected, without waiting (overlaps a cold start's other fetches). */
  prepare?(): void;
  send(command: CommandEnvelope): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaSenderOptions {
  connection: KafkaConnection;
  topic: string;
  /** Total bound on connect + produce + ack; past it the write answers 503. */
  timeoutMs: number;
  log: Logger;
  clientId?: string;
  /** Called with the number of commands in each produce request acknowledged (tests, metrics). */
  onBatch?: (commands: number) => void;
}

/**
 * Longest a send can take before its answer: the deadline, then discarding the
 * producer. The idempotency store keeps a key in flight at least this long.
 */
export function sendBudgetMs(timeoutMs: number): number {
  return timeoutMs + discardTimeoutMs(timeoutMs);
}

function discardTimeoutMs(timeoutMs: number): number {
  return Math.min(2_000, timeoutMs);
}

/** Memoizes a promise but forgets a failure, so the next request tries again. */
function retryableOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

/** Races `work` against a deadline; the loser's outcome is swallowed so nothing rejects unobserved. */
async function withDeadline<T>(ms: number, work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DependencyError("kafka", `${what} took over ${ms} ms`)),
      ms,
    );
  });
  work.catch(() => {});
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A command waiting for its batch's acknowledgement. */
interface Waiting {
  readonly value: Buffer;
  readonly key: string;
  readonly deadlineAt: number;
  resolve(): void;
  reject(err: unknown): void;
  /** Answers 503 if it is still queued (never handed to the producer) at its deadline. */
  timer?: NodeJS.Timeout;
}

/**
 * Most commands, and bytes, in one produce request: well under the broker's default
 * message.max.bytes (1 MiB) for one partition's batch, whatever the partitioning.
 */
const BATCH_MAX_COMMANDS = 500;
const BATCH_MAX_BYTES = 512 * 1024;

/** One producer and its sockets, used until a send fails; then discarded, never reused. */
interface ProducerLife {
  readonly producer: Promise<Producer>;
  /** Commands sent while a batch is in flight, to go out together in the next one. */
  readonly queue: Waiting[];
  /** The batch in flight and those after it, until the queue is empty. */
  flushing: Promise<void> | null;
  /** Cuts its sockets (nothing more can be appended by it) and disconnects, bounded; memoized. */
  discard(): Promise<void>;
  /** Disconnects after in-flight sends finish (bounded), then cuts whatever is left. */
  close(): Promise<void>;
}

/**
 * One producer per warm container, connected on the first write (or ahead of it
 * by `prepare`) and reused while sends succeed. It is idempotent (the broker drops
 * its own retried duplicates) with one request in flight per connection, so its
 * retries never reorder a todo's commands. A send that misses the deadline, or
 * fails, discards that producer before the 503: its sockets are cut and it can open
 * no others, so its retries can never append the command after the answer (bytes
 * already delivered to the broker before the deadline may still be appended; they
 * were sent before the answer, and before anything sent after it). The next write
 * gets a fresh producer. Brokers are resolved once per cold start (KAFKA_BROKERS, or
 * GetBootstrapBrokers for MSK_CLUSTER_ARN).
 */
export function kafkaCommandSender(options: KafkaSenderOptions): CommandSender {
  const { timeoutMs, topic, connection } = options;
  const clientId = options.clientId ?? "write-lambdas";
  const log = options.log.child({ dependency: "kafka" });
  const brokers = retryableOnce(() => resolveBrokers(connection));
  const retryMaxMs = Math.min(1000, timeoutMs);
  let current: ProducerLife | undefined;

  function startProducer(): ProducerLife {
    const sockets = producerSockets();
    let discarded = false;
    // Our bounded retries are intended (the deadline and the discard bound them anyway);
    // a discarded producer's last attempts failing on its cut sockets are expected.
    const demote = (message: string) =>
      discarded || message.startsWith("Limiting retries for the idempotent producer");
    const producer = (async function connectProducer() {
      const kafka = await createKafka({ ...connection, brokers: await brokers() }, clientId, log, {
        connectionTimeout: Math.min(1000, timeoutMs),
        authenticationTimeout: Math.min(3000, timeoutMs),
        requestTimeout: timeoutMs,
        retry: { initialRetryTime: 100, maxRetryTime: retryMaxMs, retries: 3 },
        socketFactory: sockets.factory,
        logCreator: kafkajsLogCreator(log, demote),
      });
      const p = kafka.producer({
        allowAutoTopicCreation: false,
        idempotent: true,
        maxInFlightRequests: 1,
        // Enough attempts to cover the deadline; finite, so a discarded producer's retry loop ends.
        retry: {
          initialRetryTime: 100,
          maxRetryTime: retryMaxMs,
          retries: Math.ceil(timeoutMs / retryMaxMs) + 3,
        },
        // Murmur2 on the key, as Java clients do: every command for one todo lands on one partition.
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await p.connect();
      log.info("connected to Kafka", { clientId });
      return p;
    })();
    producer.catch(() => {}); // reported by the send that awaits it
    let discarding: Promise<void> | undefined;
    const life: ProducerLife = {
      producer,
      queue: [],
      flushing: null,
      discard() {
        discarding ??= (async function discardProducer() {
          discarded = true;
          sockets.cut();
          const p = await producer.catch(() => undefined);
          await p?.disconnect();
        })();
        return withDeadline(discardTimeoutMs(timeoutMs), discarding, "discarding").catch(() => {});
      },
      async close() {
        const drained = Promise.resolve(life.flushing);
        await withDeadline(timeoutMs, drained, "the last acknowledgements").catch(() => {});
        const disconnect = producer.then((p) => p.disconnect());
        await withDeadline(timeoutMs, disconnect, "disconnecting").catch(() => {});
        discarded = true;
        sockets.cut();
      },
    };
    return life;
  }

  async function produce(life: ProducerLife, batch: readonly Waiting[]): Promise<void> {
    const p = await life.producer;
    await p.send({
      topic,
      acks: -1,
      timeout: timeoutMs,
      messages: batch.map((w) => ({ key: w.key, value: w.value })),
    });
  }

  /** How many of the queue go in the next request: in order, bounded in count and bytes. */
  function batchLength(queue: readonly Waiting[]): number {
    let bytes = 0;
    let n = 0;
    while (n < queue.length && n < BATCH_MAX_COMMANDS) {
      bytes += (queue[n] as Waiting).value.length;
      if (n > 0 && bytes > BATCH_MAX_BYTES) break;
      n++;
    }
    return n;
  }

  /** Takes the first `n` off the queue: theirs is now the batch's deadline, not their own timer. */
  function take(queue: Waiting[], n: number): Waiting[] {
    const taken = queue.splice(0, n);
    for (const w of taken) clearTimeout(w.timer);
    return taken;
  }

  /**
   * One produce request in flight per producer (idempotent, so its retries keep the
   * order); what is sent meanwhile waits and goes out in the next request, together. At
   * a high rate a request carries many commands instead of each waiting its turn, so
   * the answers keep up with the broker's latency instead of queueing behind it (group
   * commit). A failure retires the producer and answers 503 to everything it held.
   */
  async function flush(life: ProducerLife): Promise<void> {
    for (;;) {
      // `flushing` is cleared in the same turn as the check that finds the queue empty
      // (no await between them): a send after it starts the next flush, and one before
      // it is in the queue the check sees, even if it was made by a continuation of an
      // answer resolved just above.
      if (life.queue.length === 0) {
        life.flushing = null;
        return;
      }
      // In queue order, so a todo's commands keep theirs.
      const batch = take(life.queue, batchLength(life.queue));
      // Each answer keeps its own deadline; the first in the queue was sent first, so
      // the batch has its deadline, the earliest.
      const ms = Math.max(1, (batch[0] as Waiting).deadlineAt - Date.now());
      try {
        await withDeadline(ms, produce(life, batch), "the Kafka acknowledgement");
      } catch (err) {
        // Every failure retires the producer: the next write starts clean, and these
        // answers wait until the failed batch can send nothing more.
        if (current === life) current = undefined;
        await life.discard();
        const failed =
          err instanceof DependencyError
            ? err
            : new DependencyError("kafka", "Kafka refused or lost the write", { cause: err });
        for (const w of [...batch, ...take(life.queue, life.queue.length)]) w.reject(failed);
        life.flushing = null;
        return;
      }
      options.onBatch?.(batch.length);
      for (const w of batch) w.resolve();
    }
  }

  return {
    prepare() {
      if (current !== undefined) return;
      const life = startProducer();
      current = life;
      life.producer.catch((err: unknown) => {
        // A send waiting on it reports the failure and replaces it; with none, forget it
        // here, or the first write would fail on a connection that failed before it came.
        if (current !== life || life.flushing !== null || life.queue.length > 0) return;
        current = undefined;
        void life.discard();
        log.warn("could not connect to Kafka ahead of the first write; each write tries again", {
          clientId,
          err,
        });
      });
    },
    send(command) {
      current ??= startProducer();
      const life = current;
      return new Promise<void>((resolve, reject) => {
        const waiting: Waiting = {
          key: command.todo_id,
          value: encodeCommand(command),
          deadlineAt: Date.now() + timeoutMs,
          resolve,
          reject,
        };
        // Still queued at its deadline: never handed to the producer, so 503 at once.
        waiting.timer = setTimeout(() => {
          const at = life.queue.indexOf(waiting);
          if (at < 0) return;
          life.queue.splice(at, 1);
          reject(
            new DependencyError("kafka", `the Kafka acknowledgement took over ${timeoutMs} ms`),
          );
        }, timeoutMs);
        life.queue.push(waiting);
        // The queue is not empty, so flush awaits before it can clear `flushing`.
        if (life.flushing === null) life.flushing = flush(life);
      });
    },
    /** Disconnects the producer; bounded, so a shutdown never hangs on a dead broker. */
    async close() {
      const life = current;
      current = undefined;
      await life?.close();
    },
  };
}

/**
 * Several senders as one: each command goes through the one its todo id hashes to,
 * so the commands of one todo share a producer (and its ordering) while different
 * todos are sent in parallel.
 */
export function shardedCommandSender(senders: readonly CommandSender[]): CommandSender {
  const [only] = senders;
  if (senders.length === 1 && only !== undefined) return only;
  const pick = (todoId: string): CommandSender => {
    let h = 0x811c9dc5; // FNV-1a
    for (let i = 0; i < todoId.length; i++) h = Math.imul(h ^ todoId.charCodeAt(i), 0x01000193);
    return senders[(h >>> 0) % senders.length] as CommandSender;
  };
  return {
    prepare() {
      for (const s of senders) s.prepare?.();
    },
    send: (command) => pick(command.todo_id).send(command),
    async close() {
      await Promise.all(senders.map((s) => s.close()));
    },
  };
}
