export { ensureKafkaJars, KAFKA_VERSION } from "./kafka";
export { dataDir, repoRoot } from "./paths";
export { MissingBinaryError, waitUntil } from "./proc";
export * from "./services";
export * from "./topics";
