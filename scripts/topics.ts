/**
 * Creates `todo-commands` and its DLQ with KAFKA_PARTITIONS partitions and waits for
 * leaders. Locally plaintext; on AWS the worker image runs it with MSK IAM auth.
 */
import { ensureCommandTopics } from "@million-rps/local";
import {
  createKafka,
  createLogger,
  int,
  kafkaConnectionVars,
  loadDotEnv,
  parseConfig,
  vars,
} from "@million-rps/shared";

loadDotEnv();
const log = createLogger("topics");
const config = parseConfig({
  ...kafkaConnectionVars,
  topic: vars.kafkaTodoTopic,
  dlqTopic: vars.kafkaDlqTopic,
  partitions: vars.kafkaPartitions,
  replicationFactor: int("KAFKA_REPLICATION_FACTOR", 1, 1, 5),
});
try {
  const kafka = await createKafka(config.kafka, "million-rps-topics");
  const created = await ensureCommandTopics(kafka, config);
  log.info("topics ready", {
    topic: config.topic,
    dlq_topic: config.dlqTopic,
    partitions: config.partitions,
    created,
  });
} catch (err) {
  log.error("could not create topics", { err, brokers: config.kafka.brokers });
  process.exitCode = 1;
}
