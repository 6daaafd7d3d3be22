import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoWasmLeak, initBackends, maxErr, on, seeded } from './test-utils';

// a shape, b shape, transposeA, transposeB
const cases: [number[], number[], boolean, boolean][] = [
  [[3, 4], [4, 5], false, false],
  [[4, 3], [4, 5], true, false],
  [[3, 4], [5, 4], false, true],
  [[4, 3], [5, 4], true, true],
  [[1, 1], [1, 7], true, false],
  [[2, 5, 3], [2, 5, 6], true, false],
  [[3, 2, 7], [3, 5, 7], false, true],
  [[2, 1, 9, 4], [1, 3, 4, 9], true, true], // broadcast batch dims
  [[64, 33], [64, 10], true, false], // a dense layer's weight gradient
  [[64, 10], [33, 10], false, true], // ... and its input gradient
  [[8, 5], [40, 5], false, true], // dy·W^T with a wide W: computed as (W·dy^T)^T
  [[5, 8], [40, 5], true, true],
  [[1, 8, 5], [40, 5], false, true],
  [[8, 40], [8, 5], true, false],
  [[4, 300], [300, 64], false, false], // new weights: the unpacked SIMD product
  [[32, 40], [32, 16], true, false], // ... transposed (a dense layer's weight gradient)
  [[12, 7], [7, 24], false, false], // ... K not a multiple of anything
  [[1, 200], [200, 30], false, false], // 1 row: computed as (W^T·x^T)^T
  [[6, 200], [200, 30], false, false],
];

const TOL = 'max|wasm - cpu| <= 1e-5 * max|cpu| + 1e-6';
const bound = (scale: number) => 1e-5 * scale + 1e-6;

function operands(aShape: number[], bShape: number[]) {
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  return { av: seeded(size(aShape), 11), bv: seeded(size(bShape), 12) };
}

describe('BatchMatMul and _FusedMatMul on wasm', () => {
  beforeAll(initBackends);

  it.each(cases)(
    `BatchMatMul a %j b %j transposeA %s transposeB %s: ${TOL}`,
    async (aS, bS, tA, tB) => {
      const { av, bv } = operands(aS, bS);
      const f = () => tf.matMul(tf.tensor(av, aS), tf.tensor(bv, bS), tA, tB);
      const [ref] = await on('cpu', f);
      const [got] = await on('wasm', f);
      expect(got!.shape).toEqual(ref!.shape);
      const { err, scale } = maxErr(got!.values, ref!.values);
      expect(err).toBeLessThanOrEqual(bound(scale));
    },
  );

  it.each(cases.filter(([a, b]) => a.length === 3 || (a.length === 2 && b.length === 2)))(
    `_FusedMatMul (bias, relu) a %j b %j transposeA %s transposeB %s: ${TOL}`,
    async (aS, bS, tA, tB) => {
      const { av, bv } = operands(aS, bS);
      const units = tB ? bS[bS.length - 2]! : bS[bS.length - 1]!;
      const bias = seeded(units, 13);
      const f = () =>
        tf.fused.matMul({
          a: tf.tensor(av, aS),
          b: tf.tensor(bv, bS),
          transposeA: tA,
          transposeB: tB,
          bias: tf.tensor1d(bias),
          activation: 'relu',
        });
      const [ref] = await on('cpu', f);
      const [got] = await on('wasm', f);
      expect(got!.shape).toEqual(ref!.shape);
      const { err, scale } = maxErr(got!.values, ref!.values);
      expect(err).toBeLessThanOrEqual(bound(scale));
    },
  );

  it.each(['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const)(
    `_FusedMatMul batch 2 with bias (stock wasm adds it wrongly), activation %s: ${TOL}`,
    async (activation) => {
      const { av, bv } = operands([2, 3, 5], [2, 5, 6]);
      const f = () =>
        tf.fused.matMul({
          a: tf.tensor3d(av, [2, 3, 5]),
          b: tf.tensor3d(bv, [2, 5, 6]),
          bias: tf.tensor1d(seeded(6, 18)),
          activation,
          preluActivationWeights: activation === 'prelu' ? tf.tensor1d(seeded(6, 19)) : undefined,
          leakyreluAlpha: 0.3,
        });
      const [ref] = await on('cpu', f);
      const [got] = await on('wasm', f);
      const { err, scale } = maxErr(got!.values, ref!.values);
      expect(err).toBeLessThanOrEqual(bound(scale));
    },
  );

  it(`gradients of a dense layer match cpu: ${TOL}`, async () => {
    const xv = seeded(8 * 12, 14);
    const wv = seeded(12 * 5, 15);
    const f = () => {
      const x = tf.tensor2d(xv, [8, 12]);
      const w = tf.tensor2d(wv, [12, 5]);
      const loss = (a: tf.Tensor, b: tf.Tensor) =>
        tf.fused.matMul({ a: a, b: b, activation: 'relu' }).square().sum();
      return tf.grads(loss)([x, w]);
    };
    const ref = await on('cpu', f);
    const got = await on('wasm', f);
    for (let i = 0; i < 2; i++) {
      const { err, scale } = maxErr(got[i]!.values, ref[i]!.values);
      expect(err).toBeLessThanOrEqual(bound(scale));
    }
  });

  it.each([3, 4])(
    `weights multiplied again (inference) give the same product as the first time, %i rows: ${TOL}`,
    async (rows) => {
      // The first product by a new right operand is computed without packing it (swapped for 3
      // rows, by the SIMD kernel for 4), later ones directly on XNNPACK's packing of it.
      const { av, bv } = operands([rows, 300], [300, 64]);
      const [ref] = await on('cpu', () =>
        tf.matMul(tf.tensor2d(av, [rows, 300]), tf.tensor2d(bv, [300, 64])),
      );
      await tf.setBackend('wasm');
      const w = tf.tensor2d(bv, [300, 64]);
      const x = tf.tensor2d(av, [rows, 300]);
      const products = [0, 1, 2].map(() => tf.matMul(x, w));
      const clone = tf.add(w, 0); // the same values in a new tensor: unpacked again
      products.push(tf.matMul(x, clone));
      products.forEach((y, call) => {
        const { err, scale } = maxErr(y.dataSync(), ref!.values);
        expect(err, `call ${call + 1}`).toBeLessThanOrEqual(bound(scale));
      });
      tf.dispose([w, x, clone, ...products]);
    },
  );

  it('leaks no tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor3d(seeded(2 * 5 * 3, 16), [2, 5, 3]);
    const b = tf.tensor3d(seeded(2 * 4 * 5, 17), [2, 4, 5]);
    const run = () => {
      tf.matMul(a, b, true, true).dispose();
      tf.matMul(b, a, false, false).dispose();
      tf.fused.matMul({ a, b, transposeA: true, transposeB: true }).dispose();
      const x = tf.tensor2d(seeded(2 * 300, 20), [2, 300]);
      const w = tf.tensor2d(seeded(300 * 40, 21), [300, 40]);
      tf.matMul(x, w).dispose(); // swapped
      tf.matMul(x, w).dispose(); // direct
      const x4 = tf.tensor2d(seeded(4 * 300, 22), [4, 300]);
      const w4 = tf.tensor2d(seeded(300 * 40, 23), [300, 40]);
      tf.matMul(x4, w4).dispose(); // SIMD kernel
      tf.dispose([x4, w4]);
      tf.dispose([x, w]);
    };
    expectNoWasmLeak(run);
    tf.dispose([a, b]);
  });
});
