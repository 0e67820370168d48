import { DependencyError } from "@million-rps/shared";
import type { Message, Producer } from "kafkajs";
import type { PoisonRecord } from "./intake";

export interface DeadLetterSource {
  topic: string;
  partition: number;
}

/**
 * The dead letter keeps the original key and bytes untouched; why and where it
 * came from travel in headers, so an operator can fix and replay it.
 */
export function deadLetterMessage(poison: PoisonRecord, source: DeadLetterSource): Message {
  return {
    key: poison.record.key,
    value: poison.record.value,
    headers: {
      "dlq-reason": poison.reason,
      "dlq-source-topic": source.topic,
      "dlq-source-partition": String(source.partition),
      "dlq-source-offset": poison.record.offset,
      "dlq-at": new Date().toISOString(),
    },
  };
}

/**
 * Sends dead letters and waits for every in-sync replica (acks=all) before the
 * caller may commit past them. A redelivery can send one twice; the source
 * offset header tells the copies apart.
 */
export async function sendDeadLetters(
  producer: Producer,
  dlqTopic: string,
  poison: readonly PoisonRecord[],
  source: DeadLetterSource,
): Promise<void> {
  if (poison.length === 0) return;
  try {
    await producer.send({
      topic: dlqTopic,
      acks: -1,
      messages: poison.map((p) => deadLetterMessage(p, source)),
    });
  } catch (err) {
    throw new DependencyError("kafka", `dead-letter topic ${dlqTopic}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
