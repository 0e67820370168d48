import { type Consumer, Kafka, type KafkaMessage, logLevel } from "kafkajs";

/** Sum of the topic's high watermarks: grows by one for every message any write put on it. */
export async function messagesOn(brokers: string[], topic: string): Promise<number> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

export interface Received {
  partition: number;
  key: string | null;
  value: string | null;
  message: KafkaMessage;
}

/** Reads a topic from the beginning into `received`, for assertions on what writes produced. */
export async function topicReader(brokers: string[], topic: string) {
  const received: Received[] = [];
  const consumer: Consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `reader-${topic}-${process.pid}-${Date.now()}`,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      received.push({
        partition,
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? null,
        message,
      });
    },
  });
  return { received, stop: () => consumer.disconnect() };
}
