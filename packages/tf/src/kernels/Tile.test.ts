import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoWasmLeak, initBackends, maxErr, on, seeded } from './test-utils';

// x shape, reps
const cases: [number[], number[]][] = [
  [[3], [4]],
  [[1], [5]],
  [
    [2, 3],
    [1, 1],
  ],
  [
    [2, 3],
    [3, 1],
  ],
  [
    [2, 3],
    [1, 4],
  ],
  [
    [2, 3],
    [2, 3],
  ],
  [
    [1, 1, 1, 5],
    [4, 3, 2, 1],
  ], // a BatchNorm gradient's tile
  [
    [2, 1, 3, 1],
    [1, 4, 1, 3],
  ],
  [
    [2, 2, 2, 2, 2],
    [2, 1, 2, 1, 2],
  ],
  [
    [3, 0, 2],
    [2, 2, 2],
  ],
  [
    [2, 3],
    [0, 2],
  ],
];

describe('Tile on wasm', () => {
  beforeAll(initBackends);

  it.each(cases)('float32 x %j reps %j: equal to cpu (exact copy)', async (shape, reps) => {
    const v = seeded(
      shape.reduce((a, b) => a * b, 1),
      21,
    );
    const f = () => tf.tile(tf.tensor(v, shape), reps);
    const [ref] = await on('cpu', f);
    const [got] = await on('wasm', f);
    expect(got!.shape).toEqual(ref!.shape);
    expect(got!.values).toEqual(ref!.values);
  });

  it.each(['int32', 'bool'] as const)('%s: equal to cpu', async (dtype) => {
    const v = Array.from(seeded(12, 22, 0, 5), Math.floor);
    const f = () => tf.tile(tf.tensor(v, [2, 3, 2], dtype), [2, 1, 3]);
    const [ref] = await on('cpu', f);
    const [got] = await on('wasm', f);
    expect(got!.values).toEqual(ref!.values);
  });

  it('the BatchNorm gradient (which tiles) matches cpu: max|wasm - cpu| <= 1e-4 * max|cpu| + 1e-5', async () => {
    const xv = seeded(4 * 3 * 3 * 5, 23);
    const sv = seeded(5, 24, 0.5, 1.5);
    const ov = seeded(5, 25);
    const f = () => {
      const loss = (x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        const y = tf.batchNorm(
          x as tf.Tensor4D,
          mean as tf.Tensor1D,
          variance as tf.Tensor1D,
          offset as tf.Tensor1D,
          scale as tf.Tensor1D,
          1e-3,
        );
        return y
          .mul(tf.range(0, 5).reshape([1, 1, 1, 5]))
          .square()
          .sum();
      };
      const g = tf.grads(loss);
      return g([tf.tensor4d(xv, [4, 3, 3, 5]), tf.tensor1d(sv), tf.tensor1d(ov)]);
    };
    const ref = await on('cpu', f);
    const got = await on('wasm', f);
    for (let i = 0; i < 3; i++) {
      const { err, scale } = maxErr(got[i]!.values, ref[i]!.values);
      expect(err).toBeLessThanOrEqual(1e-4 * scale + 1e-5);
    }
  });

  it('leaks no tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(seeded(5, 24), [1, 1, 1, 5]);
    expectNoWasmLeak(() => tf.tile(x, [2, 3, 3, 1]).dispose());
    x.dispose();
  });
});
