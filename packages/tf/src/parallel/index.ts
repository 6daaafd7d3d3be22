// Using both (all) cores from TensorFlow.js in Node: XNNPACK threads inside the wasm backend, or
// data parallelism over worker_threads each running its own wasm backend.
export { enableWasmThreads, MAX_WASM_THREADS } from './threads';
export type { WasmThreadsInfo, WasmThreadsOptions } from './threads';
export { createInferencePool } from './inference-pool';
export type { InferencePool, InferencePoolOptions } from './inference-pool';
export { createParallelTrainer } from './trainer';
export type {
  BatchResult,
  EpochResult,
  FitEpochOptions,
  ParallelTrainer,
  ParallelTrainerOptions,
} from './trainer';
export { PARALLEL_LOSSES } from './loss';
export type { ParallelLoss } from './loss';
export type { ParallelErrorCode } from './errors';
