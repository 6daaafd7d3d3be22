// Using both (all) cores from TensorFlow.js in Node: XNNPACK threads inside the wasm backend, or
// data parallelism over worker_threads each running its own wasm backend.
export { enableWasmThreads, MAX_WASM_THREADS } from './threads';
export type { WasmThreadsInfo, WasmThreadsOptions } from './threads';
export { createInferencePool } from './inference-pool';
export type { InferencePool, InferencePoolOptions } from './inference-pool';
export { createParallelTrainer, PARALLEL_LOSSES } from './trainer';
export type {
  BatchResult,
  EpochResult,
  FitEpochOptions,
  ParallelLoss,
  ParallelTrainer,
  ParallelTrainerOptions,
} from './trainer';
export type { ParallelErrorCode } from './errors';
