import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoWasmLeak, initBackends, maxErr, on, seeded } from './test-utils';

// x shape, parameter shape, with scale, with offset, x offset (a large mean)
const cases: [number[], number[], boolean, boolean, number][] = [
  [[2, 3, 3, 5], [5], true, true, 0],
  [[2, 3, 3, 5], [5], false, false, 0],
  [[2, 3, 3, 5], [5], true, false, 0],
  [[2, 3, 3, 5], [1, 1, 1, 5], true, true, 0],
  [[4, 5], [5], true, true, 0],
  [[2, 3, 3, 1], [1], true, true, 0],
  [[2, 4, 4, 3], [3], true, true, 1000], // inputs far from 0: (x - mean) first
  [[2, 3, 3, 5], [2, 3, 3, 5], true, true, 0], // per-element parameters: the stock kernel
];

const TOL = 'max|wasm - cpu| <= 1e-5 * max|cpu| + 1e-6';

describe('FusedBatchNorm on wasm', () => {
  beforeAll(initBackends);

  it.each(cases)(
    `x %j parameters %j scale %s offset %s x + %d: ${TOL}`,
    async (shape, pShape, withScale, withOffset, shift) => {
      const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const xv = seeded(size(shape), 71).map((v) => v + shift);
      const mv = seeded(size(pShape), 72).map((v) => v + shift);
      const vv = seeded(size(pShape), 73, 0.1, 2);
      const sv = seeded(size(pShape), 74, 0.5, 1.5);
      const ov = seeded(size(pShape), 75);
      const f = () =>
        tf.batchNorm(
          tf.tensor(xv, shape),
          tf.tensor(mv, pShape),
          tf.tensor(vv, pShape),
          withOffset ? tf.tensor(ov, pShape) : undefined,
          withScale ? tf.tensor(sv, pShape) : undefined,
          1e-3,
        );
      const [ref] = await on('cpu', f);
      const [got] = await on('wasm', f);
      expect(got!.shape).toEqual(ref!.shape);
      const { err, scale } = maxErr(got!.values, ref!.values);
      expect(err).toBeLessThanOrEqual(1e-5 * scale + 1e-6);
    },
  );

  it('leaks no tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(seeded(2 * 3 * 3 * 4, 76), [2, 3, 3, 4]);
    const p = tf.tensor1d(seeded(4, 77, 0.5, 1));
    const run = () => {
      tf.batchNorm(x, p, p, p, p).dispose();
      tf.batchNorm(x, p, p).dispose();
    };
    expectNoWasmLeak(run);
    tf.dispose([x, p]);
  });
});
