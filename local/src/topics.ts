import type { Admin, Kafka } from "kafkajs";
import { waitUntil } from "./proc";

export interface TopicSpec {
  topic: string;
  numPartitions: number;
}

/**
 * Creates the topics that are missing, then waits until every partition has a
 * leader, so the first produce does not race the controller.
 */
export async function ensureTopics(
  admin: Admin,
  topics: readonly TopicSpec[],
  replicationFactor = 1,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: t.topic,
        numPartitions: t.numPartitions,
        replicationFactor,
      })),
    });
  }
  await waitUntil(
    `leaders for ${topics.map((t) => t.topic).join(", ")}`,
    async () => {
      const { topics: meta } = await admin.fetchTopicMetadata({
        topics: topics.map((t) => t.topic),
      });
      return meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  return missing.map((t) => t.topic);
}

/** The command topic and its dead-letter topic, as the worker and write API expect. */
export async function ensureCommandTopics(
  kafka: Kafka,
  spec: { topic: string; dlqTopic: string; partitions: number; replicationFactor?: number },
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await ensureTopics(
      admin,
      [
        { topic: spec.topic, numPartitions: spec.partitions },
        { topic: spec.dlqTopic, numPartitions: Math.min(spec.partitions, 3) },
      ],
      spec.replicationFactor ?? 1,
    );
  } finally {
    await admin.disconnect();
  }
}
