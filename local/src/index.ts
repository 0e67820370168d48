export { ensureKafkaJars, KAFKA_VERSION } from "./kafka";
export { dataDir, repoRoot } from "./paths";
export { freePort, isAlive, MissingBinaryError, sleep, waitUntil } from "./proc";
export { progressBar } from "./progress";
export { SEED_EPOCH_MS, SEED_USERS, seedTodos } from "./seed";
export * from "./services";
export {
  childPids,
  readFleetWorkerPids,
  type Stack,
  type StackAppName,
  type StackOptions,
  type StackServices,
  seedAndPublish,
  startStack,
} from "./testing/stack";
export * from "./topics";
