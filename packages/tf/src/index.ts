import * as tf from '@tensorflow/tfjs';

/**
 * The one TensorFlow.js namespace every mlship package uses (one engine, one backend registry).
 * Call {@link initRuntime} before using it.
 *
 * @example
 * ```ts
 * import { tf, initRuntime } from '@mlship/tf';
 * await initRuntime();
 * tf.tensor([1, 2, 3]).print();
 * ```
 */
export { tf };
export { initRuntime, getRuntimeInfo } from './runtime';
export type { Backend, BackendRequest, RuntimeInfo, RuntimeOptions } from './runtime';
export { patchBatchNormalization } from './batchnorm';
export { FusedAdamOptimizer } from './optimizers/adam';
export { labelCrossEntropy, labelHits } from './loss';
export { saveLayersModel } from './io/save';
export { loadLayersModel, readModelArtifacts } from './io/load';
export type {
  ExtraFiles,
  LoadModelOptions,
  SaveModelOptions,
  SavedModel,
  WrittenFile,
} from './io/types';
export { TfError, isTfError, TF_ERROR_CODES } from './errors';
export type { TfErrorCode, TfErrorData, TfErrorOptions } from './errors';
export {
  enableWasmThreads,
  MAX_WASM_THREADS,
  createInferencePool,
  createParallelTrainer,
  PARALLEL_LOSSES,
} from './parallel/index';
export type {
  WasmThreadsInfo,
  WasmThreadsOptions,
  InferencePool,
  InferencePoolOptions,
  ParallelTrainer,
  ParallelTrainerOptions,
  BatchResult,
  EpochResult,
  FitEpochOptions,
  ParallelLoss,
  ParallelErrorCode,
} from './parallel/index';
export {
  registerWasmTrainingKernels,
  WASM_TRAINING_KERNEL_NAMES,
  WASM_TRAINING_GRADIENT_NAMES,
} from './kernels/index';
