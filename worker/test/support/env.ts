import { testServices, uniqueName } from "@million-rps/local/testing";

/** Worker environment for one test: its own database, topics, group and key prefix. */
export function workerEnv(opts: {
  databaseUrl: string;
  topic: string;
  dlqTopic: string;
  keyPrefix: string;
  extra?: Record<string, string>;
}): Record<string, string> {
  const services = testServices();
  return {
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL: services.redisUrl,
    KAFKA_BROKERS: services.kafkaBrokers.join(","),
    KAFKA_TODO_TOPIC: opts.topic,
    KAFKA_DLQ_TOPIC: opts.dlqTopic,
    KAFKA_GROUP_ID: uniqueName("workers-"),
    // The broker's minimum: a killed worker's partitions move on within seconds.
    KAFKA_SESSION_TIMEOUT_MS: "6000",
    CACHE_KEY_PREFIX: opts.keyPrefix,
    ADMIN_PORT: "0",
    LOG_LEVEL: "info",
    ...opts.extra,
  };
}
