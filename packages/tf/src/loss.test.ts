import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackends, maxErr, on, seeded } from './kernels/test-utils';
import { isTfError } from './errors';
import { labelCrossEntropy, labelHits } from './loss';

/** Softmax rows of seeded logits, and labels 0..classes-1. */
function batch(
  n: number,
  classes: number,
  seed: number,
): { probs: Float32Array; labels: Int32Array } {
  const logits = seeded(n * classes, seed);
  const probs = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < classes; j++)
      sum += probs[i * classes + j] = Math.exp(3 * logits[i * classes + j]!);
    for (let j = 0; j < classes; j++) probs[i * classes + j]! /= sum;
  }
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % classes);
  return { probs, labels };
}

describe('labelCrossEntropy and labelHits', () => {
  beforeAll(initBackends);

  it.each([
    [32, 10],
    [5, 3],
    [1, 2],
  ])(
    'on wasm (fused kernels) equal the op formula on cpu: loss, its gradient and hits, %i x %i',
    async (n, classes) => {
      const { probs, labels } = batch(n, classes, n + classes);
      const f = () => {
        const p = tf.tensor2d(probs, [n, classes]);
        const y = tf.tensor1d(labels, 'int32');
        const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => labelCrossEntropy(q, y))(p);
        return [value, grad, labelHits(p, y)];
      };
      const ref = await on('cpu', f);
      const got = await on('wasm', f);
      expect(got.map((r) => r.shape)).toEqual(ref.map((r) => r.shape));
      for (let i = 0; i < 3; i++) {
        const { err, scale } = maxErr(got[i]!.values, ref[i]!.values);
        expect(err, `output ${i}`).toBeLessThanOrEqual(1e-5 * scale + 1e-6);
      }
      // Not trivially equal: the loss is positive and some rows are right, some wrong.
      expect(ref[0]!.values[0]).toBeGreaterThan(0);
    },
  );

  it('on wasm runs one kernel forward and one backward', async () => {
    await tf.setBackend('wasm');
    const { probs, labels } = batch(8, 4, 3);
    const p = tf.tensor2d(probs, [8, 4]);
    const y = tf.tensor1d(labels, 'int32');
    const profile = await tf.profile(() => tf.grad((q: tf.Tensor) => labelCrossEntropy(q, y))(p));
    const names = profile.kernels.map((k) => k.name);
    expect(names.filter((k) => k.startsWith('Mlship'))).toEqual([
      'MlshipLabelLoss',
      'MlshipLabelLossGrad',
    ]);
    // Nothing else computes: tf.grad's own bookkeeping (Identity copies of dy) aside.
    expect(names.filter((k) => !k.startsWith('Mlship') && k !== 'Identity')).toEqual([]);
    tf.dispose([p, y]);
  });

  it.each(['cpu', 'wasm'] as const)(
    'on %s a NaN probability gives a NaN loss; ties count the first index',
    async (backend) => {
      const [loss, hits] = await on(backend, () => {
        const p = tf.tensor2d([0.5, 0.5, Number.NaN, 1, 0.2, 0.8], [3, 2]);
        const y = tf.tensor1d([0, 1, 1], 'int32');
        return [
          labelCrossEntropy(p, y),
          labelHits(tf.tensor2d([0.5, 0.5, 0.3, 0.7], [2, 2]), tf.tensor1d([0, 0], 'int32')),
        ];
      });
      expect(loss!.values[0]).toBeNaN();
      expect(hits!.values[0]).toBe(1);
    },
  );

  it('names the shapes when probs and labels do not fit', async () => {
    await tf.setBackend('wasm');
    const p = tf.zeros([4, 3]);
    const y = tf.zeros([5], 'int32');
    let error: unknown;
    try {
      labelCrossEntropy(p, y);
    } catch (e) {
      error = e;
    }
    expect(isTfError(error) && error.code).toBe('INVALID_OPTION');
    expect((error as Error).message).toBe(
      'labelCrossEntropy: expected probs [n, classes] and labels [n], got [4, 3] and [5]',
    );
    tf.dispose([p, y]);
  });
});
