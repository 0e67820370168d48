export { ensureKafkaJars, KAFKA_VERSION } from "./kafka";
export { dataDir, repoRoot } from "./paths";
export { MissingBinaryError, waitUntil } from "./proc";
export { progressBar } from "./progress";
export { SEED_EPOCH_MS, SEED_USERS, seedTodos } from "./seed";
export * from "./services";
export * from "./topics";
