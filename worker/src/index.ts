export { type ApplyResult, applyBatch } from "./apply";
export { ChangePublisher } from "./change-publisher";
export {
  parseWorkerConfig,
  type WorkerConfig,
  workerConfigSpec,
} from "./config";
export { type IncomingRecord, takeIn } from "./intake";
export { createWorkerMetrics, type WorkerMetrics } from "./metrics";
export {
  applyCommand,
  CommandStreamModel,
  type Fold,
  foldCommands,
  type Outcome,
  type TodoRow,
} from "./model";
export { startWorker, type WorkerHandle } from "./worker";
