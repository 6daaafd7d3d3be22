import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoWasmLeak, initBackends, maxErr, on, seeded } from './test-utils';

// x shape, axis, keepDims
const cases: [number[], number | number[], boolean][] = [
  [[64, 5, 5, 8], [0, 1, 2], false], // a conv bias gradient
  [[64, 5, 5, 8], [0, 1, 2], true],
  [[7, 3], 0, false], // a dense bias gradient
  [[75, 4], 0, false], // odd halvings: rows left over
  [[33, 1], [0], true],
  [[3, 67, 2], [0, 1], false],
  [[0, 3], 0, false], // empty
  [[7, 3], [0], true],
  [[2, 3, 4], [1, 0], false], // unsorted axes
  [[2, 3, 4], [-3], false], // negative axis
  [[1, 1, 1, 1], [0, 1, 2], false],
  [[5, 4], [0, 1], false], // every axis: stock kernel
  [[5, 4], 1, false], // innermost: stock kernel
  [[2, 3, 4], [0, 2], false], // not a leading block: stock kernel
];

const TOL = 'max|wasm - cpu| <= 1e-6 * max|cpu| + 1e-7';
const bound = (scale: number) => 1e-6 * scale + 1e-7;

describe('Sum and Mean on wasm', () => {
  beforeAll(initBackends);

  const ops = [
    ['Sum', tf.sum, 41],
    ['Mean', tf.mean, 42],
  ] as const;
  for (const [name, op, seed] of ops) {
    it.each(cases)(`${name} x %j axis %j keepDims %s: ${TOL}`, async (shape, axis, keepDims) => {
      const v = seeded(
        shape.reduce((a, b) => a * b, 1),
        seed,
      );
      const f = () => op(tf.tensor(v, shape), axis, keepDims);
      const [ref] = await on('cpu', f);
      const [got] = await on('wasm', f);
      expect(got!.shape).toEqual(ref!.shape);
      const { err, scale } = maxErr(got!.values, ref!.values);
      expect(err).toBeLessThanOrEqual(bound(scale));
    });
  }

  it('int32 Sum over leading axes stays int32 and exact (stock kernel)', async () => {
    const f = () => tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0);
    const [ref] = await on('cpu', f);
    const [got] = await on('wasm', f);
    expect(Array.from(got!.values)).toEqual(Array.from(ref!.values));
    expect(got!.values).toBeInstanceOf(Int32Array);
  });

  it('leaks no tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(seeded(4 * 3 * 3 * 5, 43), [4, 3, 3, 5]);
    const run = () => {
      tf.sum(x, [0, 1, 2]).dispose();
      tf.mean(x, [0, 1], true).dispose();
    };
    expectNoWasmLeak(run);
    x.dispose();
  });
});
