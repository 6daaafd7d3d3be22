// The messages between the main thread (worker-host.ts) and a worker (worker.ts), typed once for
// both sides. Big arrays never travel in messages: they live in SharedArrayBuffers the main thread
// owns, and a message carries a view's position (SharedF32).
import type * as tf from '@tensorflow/tfjs';
import type { ParallelLoss } from './loss';

/** @internal What every worker receives as `workerData`. */
export interface WorkerStart {
  /** The backend to initialise (`initRuntime({ backend })`). */
  backend: 'wasm' | 'cpu' | 'auto';
}

/** @internal A float32 view into a SharedArrayBuffer: `new Float32Array(sab, byteOffset, length)`. */
export interface SharedF32 {
  sab: SharedArrayBuffer;
  byteOffset: number;
  length: number;
}

/** @internal Where one weight of the model lives in the shared buffers (trainer replicas). */
export interface WeightLayout {
  shape: number[];
  size: number;
  /** Offset (in floats) in the shared weights buffer. */
  offset: number;
  trainable: boolean;
  /** Offset (in floats) in a worker's gradient buffer; -1 when not trainable. */
  gradOffset: number;
  /** Offset (in floats) in a worker's statistics buffer; -1 when trainable. */
  statOffset: number;
}

/** @internal The whole replica layout a trainer sends with `init`. */
export interface WireLayout {
  weights: WeightLayout[];
  /** Indices (into `weights`) of the trainable weights, in model order. */
  trainable: number[];
  /** Indices of the non-trainable weights (BatchNorm moving statistics...). */
  nonTrainable: number[];
}

/** @internal Build a replica; a trainer also sends the layout and the worker's shared buffers. */
export interface InitRequest {
  type: 'init';
  artifacts: Pick<tf.io.ModelArtifacts, 'modelTopology' | 'weightSpecs' | 'weightData'>;
  layout?: WireLayout;
  shared?: { weights: SharedArrayBuffer; grads: SharedArrayBuffer; stats: SharedArrayBuffer };
}

/** @internal Run the model on `x` (shape `shape`) and write its first output into `out`. */
export interface PredictRequest {
  type: 'predict';
  x: SharedF32;
  shape: number[];
  out: SharedF32;
}

/**
 * @internal
 * Loss and gradients of one shard from the weights of version `weightsVersion` (re-read from the
 * shared weights buffer when the replica holds another version); gradients and non-trainable
 * weights go to the worker's shared buffers.
 */
export interface GradRequest {
  type: 'grad';
  weightsVersion: number;
  loss: ParallelLoss;
  x: SharedF32;
  xShape: number[];
  y: SharedF32;
  yShape: number[];
}

/** @internal Ends the worker's process-thread with `code` (tests use it to simulate a crash). */
export interface ExitRequest {
  type: 'exit';
  code: number;
}

/** @internal Every request, by `type`. */
export type WorkerRequest = InitRequest | PredictRequest | GradRequest | ExitRequest;

/** @internal What each request type answers on success. */
export interface WorkerResults {
  init: { backend: string; outputShape: (number | null)[] };
  predict: Record<string, never>;
  grad: { loss: number; correct: number; ms: number };
  exit: Record<string, never>;
}

/** @internal A worker's error, as plain data (Errors do not clone with their class). */
export interface WireError {
  name?: string;
  message: string;
  stack?: string;
}

/** @internal Every message a worker posts: the request's id, then its result or its error. */
export type WorkerReply =
  | ({ id: number; ok: true } & Record<string, unknown>)
  | { id: number; ok: false; error: WireError };
