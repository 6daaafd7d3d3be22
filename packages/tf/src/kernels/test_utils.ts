// Helpers for the kernel tests (not part of the package's API).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
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

/** Deterministic values in [lo, hi) from a 32-bit seed (mulberry32). */
export function seeded(size: number, seed: number, lo = -1, hi = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = lo + (hi - lo) * u;
  }
  return out;
}

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
    values: t.dataSync() as Float32Array | Int32Array | Uint8Array,
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
    return out as tf.Tensor | tf.Tensor[];
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
  return tf.engine().findBackend('wasm')!.numDataIds();
}
