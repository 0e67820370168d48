import {
  type CommandEnvelope,
  createKafka,
  DependencyError,
  encodeCommand,
  type KafkaConnection,
  type Logger,
} from "@million-rps/shared";
import { type Kafka, Partitioners, type Producer } from "kafkajs";
import { kafkajsLogCreator } from "./kafkajs-log";

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
}

/** Memoizes a promise but forgets a failure, so the next request tries again. */
function retryableOnce<T>(load: () => Promise<T>): {
  get(): Promise<T>;
  peek(): Promise<T> | undefined;
} {
  let pending: Promise<T> | undefined;
  return {
    get() {
      pending ??= load().catch((err: unknown) => {
        pending = undefined;
        throw err;
      });
      return pending;
    },
    peek: () => pending,
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

/**
 * One producer per warm container, connected on the first write and reused.
 * Brokers are resolved once per cold start (KAFKA_BROKERS, or GetBootstrapBrokers
 * for MSK_CLUSTER_ARN); a failed connect is retried by the next write.
 */
export function kafkaCommandSender(options: KafkaSenderOptions): CommandSender {
  const { timeoutMs, topic } = options;
  const kafka = retryableOnce<Kafka>(() =>
    createKafka(options.connection, options.clientId ?? "write-lambdas", {
      connectionTimeout: Math.min(1000, timeoutMs),
      authenticationTimeout: Math.min(3000, timeoutMs),
      requestTimeout: timeoutMs,
      retry: { initialRetryTime: 100, maxRetryTime: Math.min(1000, timeoutMs), retries: 3 },
      logCreator: kafkajsLogCreator(options.log.child({ dependency: "kafka" })),
    }),
  );
  const producer = retryableOnce<Producer>(async function connectProducer() {
    const p = (await kafka.get()).producer({
      allowAutoTopicCreation: false,
      // Murmur2 on the key, as Java clients do: every command for one todo lands on one partition.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await p.connect();
    } catch (err) {
      await p.disconnect().catch(() => {});
      throw err;
    }
    return p;
  });

  async function produce(command: CommandEnvelope): Promise<void> {
    const p = await producer.get();
    await p.send({
      topic,
      acks: -1,
      timeout: timeoutMs,
      messages: [{ key: command.todo_id, value: encodeCommand(command) }],
    });
  }

  return {
    prepare() {
      producer.get().catch(() => {}); // a failure is retried, and reported, by the send itself
    },
    async send(command) {
      try {
        await withDeadline(timeoutMs, produce(command), "the Kafka acknowledgement");
      } catch (err) {
        if (err instanceof DependencyError) throw err;
        throw new DependencyError("kafka", "Kafka refused or lost the write", { cause: err });
      }
    },
    /** Disconnects the producer; bounded, so a shutdown never hangs on a dead broker. */
    async close() {
      const pending = producer.peek();
      if (pending === undefined) return;
      const disconnect = pending.then((p) => p.disconnect());
      await withDeadline(timeoutMs, disconnect, "disconnecting").catch(() => {});
    },
  };
}
