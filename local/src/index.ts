export { isStopRequested, MissingBinaryError, StartupError, StopRequested } from "./errors";
export { ensureKafkaJars, KAFKA_VERSION, kafkaJarsCached } from "./kafka";
export { reclaimLeftovers, stopStrays } from "./leftovers";
export { dataDir, repoRoot } from "./paths";
export { removePostgresData } from "./postgres-home";
export { PREREQUISITES, type Prerequisite, type Purpose } from "./prerequisites";
export { freePort, isAlive, sleep, waitUntil } from "./proc";
export { progressBar } from "./progress";
export { provision } from "./provision";
export { SEED_EPOCH_MS, SEED_USERS, seedTodos } from "./seed";
export * from "./services";
export { type StopOptions, Teardown, throwIfStopping } from "./teardown";
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
