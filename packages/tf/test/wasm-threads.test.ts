// The threaded wasm module in Node: the wasm backend is created once per process, so this file
// (its own vitest process) starts it with 2 threads and checks results against the cpu backend.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initRuntime } from '../src/runtime';
import { seeded as seededIn } from './helpers';
import { enableWasmThreads, type WasmThreadsInfo } from '../src/parallel/threads';
import { simdKernels } from '../src/kernels/simd';
import { FusedAdamOptimizer } from '../src/optimizers/adam';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

// Values in [-0.5, 0.5).
const seeded = (size: number, seed: number): Float32Array => seededIn(size, seed, -0.5, 0.5);

/** Model A's layers at a smaller width; loss and gradients of every weight, on `backend`. */
async function lossAndGrads(backend: 'wasm' | 'cpu'): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  // No "install tfjs-node" banner from the cpu backend (libraries and their tests do not print).
  const b = tf.backend() as unknown as { firstUse?: boolean };
  if (typeof b.firstUse === 'boolean') b.firstUse = false;
  return tf.tidy(() => {
    const x = tf.tensor(seeded(8 * 28 * 28, 1), [8, 28, 28, 1]);
    const w1 = tf.variable(tf.tensor(seeded(3 * 3 * 1 * 16, 2), [3, 3, 1, 16]));
    const w2 = tf.variable(tf.tensor(seeded(3 * 3 * 16 * 32, 3), [3, 3, 16, 32]));
    const w3 = tf.variable(tf.tensor(seeded(5 * 5 * 32 * 10, 4), [5 * 5 * 32, 10]));
    const f = (): tf.Scalar => {
      let h: tf.Tensor4D = tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'valid'));
      h = tf.maxPool(h, 2, 2, 'valid');
      h = tf.relu(tf.conv2d(h, w2 as tf.Tensor4D, 1, 'valid'));
      h = tf.maxPool(h, 2, 2, 'valid');
      const logits = tf.matMul(tf.reshape(h, [8, -1]), w3);
      return tf.mean(tf.square(logits));
    };
    const { value, grads } = tf.variableGrads(f, [w1, w2, w3]);
    const out = [
      value.dataSync() as Float32Array,
      ...[w1, w2, w3].map((v) => grads[v.name]?.dataSync() as Float32Array),
    ];
    [w1, w2, w3].forEach((v) => v.dispose());
    return out;
  });
}

describe('enableWasmThreads', () => {
  let info: WasmThreadsInfo;
  beforeAll(async () => {
    info = await enableWasmThreads(2);
    await initRuntime({ backend: 'wasm' });
  });

  it('runs the threaded SIMD module with 2 XNNPACK threads', () => {
    expect(info).toMatchObject({ threads: 2, multithreaded: true });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('computes a conv net forward and backward like the cpu backend', async () => {
    const wasm = await lossAndGrads('wasm');
    const cpu = await lossAndGrads('cpu');
    await tf.setBackend('wasm');
    wasm.forEach((values, i) => {
      const ref = cpu[i] as Float32Array;
      expect(values.length).toBe(ref.length);
      let worst = 0;
      let scale = 0;
      values.forEach((v, j) => {
        worst = Math.max(worst, Math.abs(v - (ref[j] as number)));
        scale = Math.max(scale, Math.abs(ref[j] as number));
      });
      expect(worst).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
    });
  });

  it("runs mlship's SIMD kernels (matmul of new weights, Adam) on the shared heap like cpu", async () => {
    await tf.setBackend('wasm');
    const heap = (tf.backend() as BackendWasm).wasm as unknown as { HEAPU8: Uint8Array };
    expect(heap.HEAPU8.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(simdKernels(tf.backend() as BackendWasm)).not.toBeNull();
    const run = async (backend: 'wasm' | 'cpu') => {
      await tf.setBackend(backend);
      const x = tf.tensor2d(seeded(8 * 40, 5), [8, 40]);
      const w = tf.variable(tf.tensor2d(seeded(40 * 16, 6), [40, 16]));
      const optimizer = new FusedAdamOptimizer(0.01);
      for (let i = 0; i < 3; i++) optimizer.minimize(() => tf.mean(tf.square(tf.matMul(x, w))));
      const out = [tf.matMul(x, w).dataSync() as Float32Array, w.dataSync() as Float32Array];
      optimizer.dispose();
      tf.dispose([x, w]);
      return out;
    };
    const wasm = await run('wasm');
    const cpu = await run('cpu');
    await tf.setBackend('wasm');
    wasm.forEach((values, i) => {
      values.forEach((v, j) => expect(Math.abs(v - cpu[i]![j]!)).toBeLessThanOrEqual(1e-5));
    });
  });

  it('returns the current state for the same thread count, and refuses another one', async () => {
    await expect(enableWasmThreads(2)).resolves.toMatchObject({ threads: 2, initMs: 0 });
    await expect(enableWasmThreads(3)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/already initialised with 2 thread\(s\)/),
    });
  });

  it.each([[0], [9], [1.5], [Number.NaN]])(
    'rejects threads = %s with INVALID_OPTION',
    async (n) => {
      await expect(enableWasmThreads(n)).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        message: expect.stringMatching(/threads must be an integer in \[1, 8\]/),
      });
    },
  );
});
