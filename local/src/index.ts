export {
  type BenchFigure,
  type FigureResults,
  figureTable,
  loadAverageFigure,
  markdownTable,
  quantile,
  reportFigures,
  textTable,
  writeFigureResults,
} from "./bench-report";
export { isStopRequested, MissingBinaryError, StartupError, StopRequested } from "./errors";
export { FramingError, header, type Response1, ResponseParser } from "./http1-framing";
export { ensureKafkaJars, KAFKA_VERSION, kafkaJarsCached } from "./kafka";
export { reclaimLeftovers, stopStrays } from "./leftovers";
export {
  launchNativeStack,
  type NativeStack,
  type NativeStackOptions,
  nativeStack,
} from "./native-stack";
export { type OwnedProcess, ownedProcesses } from "./owned-processes";
export { dataDir, repoRoot } from "./paths";
export { removePostgresData } from "./postgres-home";
export { PREREQUISITES, type Prerequisite, type Purpose } from "./prerequisites";
export { freePort, isAlive, waitUntil } from "./proc";
export { provision } from "./provision";
export * from "./services";
export { type StopOptions, Teardown, throwIfStopping } from "./teardown";
export {
  childPids,
  readFleetProcessPids,
  type Stack,
  type StackAppName,
  type StackOptions,
  type StackServices,
  seedAndPublish,
  startStack,
} from "./testing/stack";
