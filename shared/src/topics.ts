/**
 * Topic creation, as the topics task runs it on AWS (scripts/topics.ts, bundled into
 * the worker image) and the local harness and tests run it: creates what is missing
 * and waits for leaders; grows a topic whose partition count went up (Kafka cannot
 * shrink one; a smaller count is reported and left alone); gives the DLQ triage
 * group its starting offsets so MSK reports the DLQ's depth as that group's lag.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Admin, Kafka } from "kafkajs";

export interface TopicSpec {
  topic: string;
  numPartitions: number;
}

export interface CommandTopics {
  topic: string;
  dlqTopic: string;
  partitions: number;
}

/** The command topic and its dead-letter topic (at most 3 partitions: it is read by hand). */
export function commandTopicSpecs(spec: CommandTopics): TopicSpec[] {
  return [
    { topic: spec.topic, numPartitions: spec.partitions },
    { topic: spec.dlqTopic, numPartitions: Math.min(spec.partitions, 3) },
  ];
}

const LEADERS_TIMEOUT_MS = 30_000;

/** Until every partition of `topics` has a leader, so the first produce does not race the controller. */
async function waitForLeaders(admin: Admin, topics: readonly string[]): Promise<void> {
  const deadline = Date.now() + LEADERS_TIMEOUT_MS;
  let lastError: unknown;
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: [...topics] });
      if (meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
        return;
    } catch (err) {
      lastError = err; // e.g. the metadata does not know a just-created topic yet
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(
        `timed out after ${LEADERS_TIMEOUT_MS} ms waiting for leaders for ${topics.join(", ")}${why}`,
      );
    }
    await sleep(100);
  }
}

/** Creates the topics that are missing, then waits until every partition has a leader. */
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
  await waitForLeaders(
    admin,
    topics.map((t) => t.topic),
  );
  return missing.map((t) => t.topic);
}

/** The command topic and its dead-letter topic, as the worker and write API expect. */
export async function ensureCommandTopics(
  kafka: Kafka,
  spec: CommandTopics & { replicationFactor?: number },
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await ensureTopics(admin, commandTopicSpecs(spec), spec.replicationFactor ?? 1);
  } finally {
    await admin.disconnect();
  }
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
  targets: readonly TopicSpec[],
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
