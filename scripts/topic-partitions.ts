/**
 * What the topics step does after creating what is missing (scripts/topics.ts):
 * grows a topic whose partition count went up (Kafka cannot shrink one; a
 * smaller count is reported and left alone), and gives the DLQ triage group its
 * starting offsets so MSK reports the DLQ's depth as that group's lag.
 * Kept beside topics.ts rather than in local/ (topic creation lives there).
 */
import type { Admin } from "kafkajs";

export interface PartitionTarget {
  topic: string;
  numPartitions: number;
}

export interface PartitionChange {
  topic: string;
  from: number;
  to: number;
  /** `grown`: partitions added; `kept`: already there; `not-shrunk`: fewer asked than exist. */
  outcome: "grown" | "kept" | "not-shrunk";
}

type TopicAdmin = Pick<Admin, "fetchTopicMetadata" | "createPartitions">;

/**
 * Adds partitions to every topic whose count is below its target. Keys hash onto
 * the new count from then on: commands for one todo written before and after the
 * change may sit in two partitions, so grow while writes are quiet (cdk/DEPLOY.md).
 */
export async function growPartitions(
  admin: TopicAdmin,
  targets: readonly PartitionTarget[],
): Promise<PartitionChange[]> {
  const { topics } = await admin.fetchTopicMetadata({ topics: targets.map((t) => t.topic) });
  const current = new Map(topics.map((t) => [t.name, t.partitions.length]));
  const changes: PartitionChange[] = targets.map((t) => {
    const from = current.get(t.topic);
    if (from === undefined) throw new Error(`topic ${t.topic} does not exist`);
    if (t.numPartitions > from)
      return { topic: t.topic, from, to: t.numPartitions, outcome: "grown" };
    return {
      topic: t.topic,
      from,
      to: from,
      outcome: from === t.numPartitions ? "kept" : "not-shrunk",
    };
  });
  const grow = changes.filter((c) => c.outcome === "grown");
  if (grow.length > 0) {
    await admin.createPartitions({
      validateOnly: false,
      topicPartitions: grow.map((c) => ({ topic: c.topic, count: c.to })),
    });
  }
  return changes;
}

type GroupAdmin = Pick<Admin, "fetchOffsets" | "fetchTopicOffsets" | "setOffsets">;

/**
 * Commits offsets for `groupId` on the partitions of `topic` where it has none,
 * at the partition's earliest offset: nobody consumes with this group, so its lag
 * is the number of messages nobody has triaged. Partitions it already has offsets
 * on (an operator's triage) are left alone. Returns the partitions it set.
 */
export async function ensureTriageOffsets(
  admin: GroupAdmin,
  groupId: string,
  topic: string,
): Promise<number[]> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const have = new Set(
    (committed?.partitions ?? []).filter((p) => Number(p.offset) >= 0).map((p) => p.partition),
  );
  const log = await admin.fetchTopicOffsets(topic);
  const missing = log.filter((p) => !have.has(p.partition));
  if (missing.length > 0) {
    await admin.setOffsets({
      groupId,
      topic,
      partitions: missing.map((p) => ({ partition: p.partition, offset: p.low })),
    });
  }
  return missing.map((p) => p.partition).sort((a, b) => a - b);
}
