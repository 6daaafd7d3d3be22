// Helpers for the kernel tests (not part of the package's API).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { expect } from 'vitest';
import { registerWasmTrainingKernels } from './index';

/** Initializes wasm (once per test file) with the training kernels, and leaves cpu current. */
export async function initBackends(): Promise<void> {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
  await tf.setBackend('cpu');
  // No "install tfjs-node" banner from the cpu backend on stdout.
  const cpu = tf.backend() as unknown as { firstUse?: boolean };
  if (typeof cpu.firstUse === 'boolean') cpu.firstUse = false;
}

export { seeded } from '../../test/helpers';

export interface Result {
  shape: number[];
  values: Float32Array | Int32Array | Uint8Array;
}

/** Runs `f` on `backend` and returns its outputs' shapes and values (tensors disposed). */
export async function on(
  backend: 'cpu' | 'wasm',
  f: () => tf.Tensor | tf.Tensor[],
): Promise<Result[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const r = f();
    return Array.isArray(r) ? r : [r];
  });
  const results = outs.map((t) => ({
    shape: t.shape.slice(),
    values: t.dataSync<'float32' | 'int32' | 'bool'>(),
  }));
  tf.dispose(outs);
  return results;
}

/** Runs one kernel by name on `backend` with fresh input tensors built from arrays. */
export async function runKernelOn(
  backend: 'cpu' | 'wasm',
  name: string,
  inputs: Record<string, { shape: number[]; values: Float32Array | Int32Array }>,
  attrs: Record<string, unknown>,
): Promise<Result[]> {
  return on(backend, () => {
    const ins: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) ins[k] = tf.tensor(v.values, v.shape);
    const out = tf.engine().runKernel(name, ins, attrs as tf.NamedAttrMap);
    return out;
  });
}

/** max |a - b| (NaN counts as equal to NaN only) and max |ref|. */
export function maxErr(
  actual: ArrayLike<number>,
  ref: ArrayLike<number>,
): { err: number; scale: number } {
  if (actual.length !== ref.length) throw new Error(`length ${actual.length} != ${ref.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    if (Number.isNaN(actual[i]) && Number.isNaN(ref[i])) continue; // NaN where cpu has NaN
    const d = Math.abs(actual[i]! - ref[i]!);
    err = Number.isNaN(d) ? Infinity : Math.max(err, d);
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return { err, scale };
}

/** Number of data buffers the wasm backend holds (catches leaked kernel intermediates). */
export function wasmDataIds(): number {
  return tf.engine().findBackend('wasm').numDataIds();
}

/**
 * Runs `run` once (first-use allocations), then three more times, and expects the tensor count,
 * tensor bytes and wasm data buffers to be where they were after the first run.
 */
export function expectNoWasmLeak(run: () => void): void {
  run();
  const before = { ...tf.memory(), ids: wasmDataIds() };
  for (let i = 0; i < 3; i++) run();
  expect(tf.memory().numTensors).toBe(before.numTensors);
  expect(tf.memory().numBytes).toBe(before.numBytes);
  expect(wasmDataIds()).toBe(before.ids);
}

/** A forward 2-D convolution: x shape (NHWC), filter [fH, fW, outChannels], strides, pad. */
export type ConvCase = [
  number[],
  [number, number, number],
  number | [number, number],
  'same' | 'valid' | number[][],
];

/** Forward convolutions both Conv2DBackprop* kernels are checked on (each test adds its own). */
export const CONV_CASES: readonly ConvCase[] = [
  [[1, 5, 5, 1], [3, 3, 1], 1, 'same'],
  [[2, 7, 6, 3], [3, 2, 4], 2, 'same'],
  [[2, 7, 7, 3], [3, 3, 2], 2, 'valid'],
  [[2, 8, 8, 2], [3, 3, 2], 2, 'valid'], // stride leaves the last input row/col out
  [[3, 9, 8, 4], [5, 3, 6], 1, 'valid'],
  [[2, 6, 6, 3], [1, 1, 5], 2, 'same'],
  [[1, 10, 9, 2], [4, 4, 3], 2, 'same'],
  [[2, 9, 7, 3], [3, 3, 4], [1, 2], 'same'],
  [[4, 12, 12, 8], [3, 3, 16], 1, 'same'],
];

/** The tolerance of the Conv2DBackprop* tests, as test names state it ... */
export const CONV_TOL = 'max|wasm - cpu| <= 1e-4 * max|cpu| + 1e-5';

/** ... and as a bound on max|wasm - cpu| given max|cpu|. */
export function convBound(scale: number): number {
  return 1e-4 * scale + 1e-5;
}
