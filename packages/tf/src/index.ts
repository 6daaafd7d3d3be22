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
export { saveLayersModel, loadLayersModel, readModelArtifacts } from './io';
export type { ExtraFiles, LoadModelOptions, SaveModelOptions, SavedModel, WrittenFile } from './io';
export { TfError, isTfError } from './errors';
export type { TfErrorCode, TfErrorData, TfErrorOptions } from './errors';
