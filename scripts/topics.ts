/**
 * Creates `todo-commands` and its DLQ with KAFKA_PARTITIONS partitions and waits for
 * leaders, adds partitions when KAFKA_PARTITIONS grew (never removes any), and seeds
 * the DLQ triage group's offsets (its lag is the DLQ depth the alarm watches).
 * Locally plaintext; on AWS the worker image runs it with MSK IAM auth. The work
 * itself is shared/src/topics.ts, which the local harness uses too.
 */
import {
  int,
  kafkaConnectionVars,
  loadDotEnv,
  parseConfig,
  vars,
} from "@million-rps/shared/config";
import { createKafka } from "@million-rps/shared/kafka";
import { createLogger } from "@million-rps/shared/pino-logger";
import {
  commandTopicSpecs,
  ensureCommandTopics,
  ensureTriageOffsets,
  growPartitions,
} from "@million-rps/shared/topics";

loadDotEnv();
const config = parseConfig({
  ...kafkaConnectionVars,
  topic: vars.kafkaTodoTopic,
  dlqTopic: vars.kafkaDlqTopic,
  partitions: vars.kafkaPartitions,
  replicationFactor: int("KAFKA_REPLICATION_FACTOR", 1, 1, 5),
  triageGroup: vars.kafkaDlqTriageGroup,
  logLevel: vars.logLevel,
});
const log = createLogger("topics", { level: config.logLevel });
try {
  const kafka = await createKafka(config.kafka, "million-rps-topics", log);
  const created = await ensureCommandTopics(kafka, config);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const changes = await growPartitions(admin, commandTopicSpecs(config));
    for (const c of changes.filter((c) => c.outcome === "not-shrunk")) {
      log.warn("partitions are never removed: keeping the larger count", { ...c });
    }
    const triaged = await ensureTriageOffsets(admin, config.triageGroup, config.dlqTopic);
    log.info("topics ready", {
      topic: config.topic,
      dlq_topic: config.dlqTopic,
      partitions: config.partitions,
      created,
      grown: changes.filter((c) => c.outcome === "grown"),
      triage_group: config.triageGroup,
      triage_offsets_set: triaged,
    });
  } finally {
    await admin.disconnect();
  }
} catch (err) {
  log.error("could not create topics", { err, brokers: config.kafka.brokers });
  process.exitCode = 1;
}
