export { type ApplyResult, applyBatch } from "./apply";
export {
  parseHotPages,
  parseWorkerConfig,
  type WorkerConfig,
  workerConfigSpec,
} from "./config";
export { GenerationMover } from "./generation-mover";
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
