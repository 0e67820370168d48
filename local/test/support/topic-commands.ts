import { Kafka, logLevel } from "kafkajs";
import { uniqueName, waitUntil } from "../../src/testing";

/**
 * Every command id on `topic`, read from the beginning up to the current end by
 * a consumer group of its own: what a test compares with the writes it got a 202 for.
 */
export async function commandIdsOnTopic(
  brokers: readonly string[],
  topic: string,
): Promise<string[]> {
  const kafka = new Kafka({ brokers: [...brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  let total = 0;
  try {
    for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high) - Number(p.low);
  } finally {
    await admin.disconnect();
  }
  if (total === 0) return [];
  const ids: string[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName("bad-input-check-") });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const text = message.value?.toString("utf8") ?? "";
        try {
          ids.push(String((JSON.parse(text) as { command_id?: unknown }).command_id));
        } catch {
          ids.push(`not JSON: ${text.slice(0, 80)}`);
        }
      },
    });
    await waitUntil(`${total} messages from ${topic}`, () => ids.length >= total, {
      timeoutMs: 30_000,
    });
  } finally {
    await consumer.disconnect();
  }
  return ids.sort();
}
