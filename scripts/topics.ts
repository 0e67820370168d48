/** Creates `todo-commands` and its DLQ with KAFKA_PARTITIONS partitions and waits for leaders. */
import { ensureCommandTopics } from "@million-rps/local";
import { createLogger, loadDotEnv, parseConfig, vars } from "@million-rps/shared";

loadDotEnv();
const log = createLogger("topics");
const config = parseConfig({
  brokers: vars.kafkaBrokers,
  topic: vars.kafkaTodoTopic,
  dlqTopic: vars.kafkaDlqTopic,
  partitions: vars.kafkaPartitions,
});
try {
  const created = await ensureCommandTopics(
    config.brokers,
    config.topic,
    config.dlqTopic,
    config.partitions,
  );
  log.info("topics ready", {
    topic: config.topic,
    dlq_topic: config.dlqTopic,
    partitions: config.partitions,
    created,
  });
} catch (err) {
  log.error("could not create topics", { err, brokers: config.brokers });
  process.exitCode = 1;
}
