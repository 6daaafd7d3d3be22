import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNEL_NAMES } from './index';
import { initBackends, on, seeded } from './test-utils';

describe('registerWasmTrainingKernels', () => {
  beforeAll(initBackends);

  it('returns every kernel name, also when called again, and keeps one registration', () => {
    const cpuKernels = tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k.kernelFunc]);
    const first = registerWasmTrainingKernels();
    const funcs = first.map((n) => tf.getKernel(n, 'wasm').kernelFunc);
    const second = registerWasmTrainingKernels();
    expect(first).toEqual([...WASM_TRAINING_KERNEL_NAMES]);
    expect(second).toEqual(first);
    expect(second.map((n) => tf.getKernel(n, 'wasm').kernelFunc)).toEqual(funcs);
    expect(first).toContain('Conv2DBackpropFilter');
    // Only wasm is touched.
    expect(tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k.kernelFunc])).toEqual(
      cpuKernels,
    );
  });

  it('after a repeated call, replaced kernels still reach the stock fast path (no recursion)', async () => {
    registerWasmTrainingKernels();
    const a = seeded(6 * 4, 61);
    const b = seeded(4 * 5, 62);
    const f = () => [
      tf.matMul(tf.tensor2d(a, [6, 4]), tf.tensor2d(b, [4, 5])),
      tf.matMul(tf.tensor2d(a, [4, 6]), tf.tensor2d(b, [4, 5]), true, false),
      tf.sum(tf.tensor2d(a, [6, 4]), 0),
    ];
    const ref = await on('cpu', f);
    const got = await on('wasm', f);
    for (let i = 0; i < ref.length; i++) {
      const r = ref[i]!.values;
      got[i]!.values.forEach((v, j) => expect(v).toBeCloseTo(r[j]!, 5));
    }
  });
});
