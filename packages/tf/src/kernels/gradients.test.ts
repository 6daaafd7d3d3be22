import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from './index';
import { expectNoWasmLeak, initBackends, on, seeded } from './test-utils';

// x shape, axis, keepDims
const cases: [number[], number | number[] | undefined, boolean][] = [
  [[4, 3, 3, 5], [0, 1, 2], false], // batch-norm moments
  [[4, 3, 3, 5], [0, 1, 2], true],
  [[4, 3, 3, 5], [1, 2], false], // global average pooling
  [[6, 7], -1, false],
  [[6, 7], undefined, false], // every axis
  [[2, 3, 4], [2, 0], true],
];

describe('Mean and Sum gradients on wasm', () => {
  beforeAll(initBackends);

  it.each(cases)('x %j axis %j keepDims %s: equal to cpu', async (shape, axis, keepDims) => {
    const v = seeded(
      shape.reduce((a, b) => a * b, 1),
      81,
    );
    const w = seeded(
      shape.reduce((a, b) => a * b, 1),
      82,
    );
    for (const op of [tf.mean, tf.sum]) {
      // A non-uniform upstream gradient, the same on both backends: d/dx of sum(op(x) * w).
      const f = () =>
        tf.grad((x: tf.Tensor) => {
          const y = op(x, axis, keepDims);
          return y.mul(tf.tensor(w.slice(0, y.size), y.shape)).sum();
        })(tf.tensor(v, shape));
      const [ref] = await on('cpu', f);
      const [got] = await on('wasm', f);
      expect(got!.shape).toEqual(ref!.shape);
      expect(Array.from(got!.values)).toEqual(Array.from(ref!.values));
    }
  });

  it('int32 Sum gradient is float32, as with the stock gradient', async () => {
    const f = () =>
      tf.grad((x: tf.Tensor) => tf.sum(x, 0))(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'));
    const [ref] = await on('cpu', f);
    const [got] = await on('wasm', f);
    expect(got!.values).toBeInstanceOf(Float32Array);
    expect(Array.from(got!.values)).toEqual(Array.from(ref!.values));
  });

  it('registration is idempotent and leaves other backends on the stock gradient', async () => {
    const mean = tf.getGradient('Mean').gradFunc;
    registerWasmTrainingKernels();
    expect(tf.getGradient('Mean').gradFunc).toBe(mean);
    await tf.setBackend('cpu');
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    // On cpu the stock gradient builds its tf.ones(x.shape) tensor: one more tensor created.
    const before = tf.engine().state.numTensors;
    const g = tf.grad((t: tf.Tensor) => tf.mean(t))(x);
    expect(Array.from(g.dataSync())).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(tf.engine().state.numTensors).toBeGreaterThan(before);
    tf.dispose([x, g]);
  });

  it('leaks no tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(seeded(2 * 3 * 3 * 4, 83), [2, 3, 3, 4]);
    const run = () => {
      tf.grad((t: tf.Tensor) => tf.mean(t, [0, 1, 2]).sum())(x).dispose();
      tf.grad((t: tf.Tensor) => tf.sum(t, [1, 2]).square().sum())(x).dispose();
    };
    expectNoWasmLeak(run);
    x.dispose();
  });
});
