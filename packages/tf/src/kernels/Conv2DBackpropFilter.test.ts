import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CONV_CASES,
  CONV_TOL,
  convBound,
  expectNoWasmLeak,
  initBackends,
  maxErr,
  on,
  runKernelOn,
  seeded,
  type ConvCase,
} from './test-utils';

// The shared geometries (the 4th: the last input row/col is never read, so x is cropped), then
// this kernel's own routes.
const cases: ConvCase[] = [
  ...CONV_CASES,
  // Thin patches (fH*fW*inChannels small next to outChannels): the im2col route.
  [[2, 9, 8, 1], [3, 3, 32], 1, 'valid'],
  [[2, 7, 6, 1], [3, 3, 24], 2, 'same'],
  [[1, 5, 5, 1], [2, 2, 16], 1, 'valid'],
  [[2, 6, 5, 1], [1, 1, 8], 2, 'valid'],
  [[3, 8, 8, 2], [2, 1, 20], [2, 1], 'same'],
  [
    [2, 7, 6, 2],
    [3, 3, 3],
    1,
    [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  ],
];

const TOL = CONV_TOL;
const bound = convBound;

describe('Conv2DBackpropFilter on wasm', () => {
  beforeAll(initBackends);

  it.each(cases)(`x %j filter %j strides %j pad %j: ${TOL}`, async (xShape, f, strides, pad) => {
    const [n, h, w, ci] = xShape as [number, number, number, number];
    const filterShape: [number, number, number, number] = [f[0], f[1], ci, f[2]];
    const dyShape = tf.backend_util.computeConv2DInfo(
      [n, h, w, ci],
      filterShape,
      strides,
      1,
      pad as 'same',
    ).outShape;
    const x = { shape: xShape, values: seeded(n * h * w * ci, 1) };
    const dy = {
      shape: dyShape,
      values: seeded(
        dyShape.reduce((a, b) => a * b),
        2,
      ),
    };
    const attrs = { strides, pad, dataFormat: 'NHWC', filterShape };
    const [ref] = await runKernelOn('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs);
    const [got] = await runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
    expect(got!.shape).toEqual(filterShape);
    const { err, scale } = maxErr(got!.values, ref!.values);
    expect(scale).toBeGreaterThan(0);
    expect(err).toBeLessThanOrEqual(bound(scale));
  });

  it(`NCHW matches cpu: ${TOL}`, async () => {
    const x = { shape: [2, 3, 7, 6], values: seeded(2 * 3 * 7 * 6, 3) };
    const dy = { shape: [2, 4, 4, 3], values: seeded(2 * 4 * 4 * 3, 4) };
    const attrs = { strides: 2, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 3, 4] };
    const [ref] = await runKernelOn('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs);
    const [got] = await runKernelOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
    expect(got!.shape).toEqual([3, 3, 3, 4]);
    const { err, scale } = maxErr(got!.values, ref!.values);
    expect(err).toBeLessThanOrEqual(bound(scale));
  });

  it(`tf.grads of conv2d (x and filter) match cpu: ${TOL}`, async () => {
    const xv = seeded(2 * 9 * 9 * 3, 5);
    const fv = seeded(3 * 3 * 3 * 4, 6);
    const g = () => {
      const x = tf.tensor4d(xv, [2, 9, 9, 3]);
      const filter = tf.tensor4d(fv, [3, 3, 3, 4]);
      const loss = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, 2, 'same').square().sum();
      return tf.grads(loss as (...a: tf.Tensor[]) => tf.Tensor)([x, filter]);
    };
    const ref = await on('cpu', g);
    const got = await on('wasm', g);
    for (let i = 0; i < 2; i++) {
      const { err, scale } = maxErr(got[i]!.values, ref[i]!.values);
      expect(err).toBeLessThanOrEqual(bound(scale));
    }
  });

  it('leaks no tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(seeded(2 * 8 * 8 * 3, 7), [2, 8, 8, 3]);
    const dy = tf.tensor4d(seeded(2 * 3 * 3 * 4, 8), [2, 3, 3, 4]);
    const attrs = { strides: 2, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] };
    // ... and the im2col route.
    const x1 = tf.tensor4d(seeded(2 * 8 * 8, 9), [2, 8, 8, 1]);
    const dy1 = tf.tensor4d(seeded(2 * 6 * 6 * 32, 10), [2, 6, 6, 32]);
    const attrs1 = { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 1, 32] };
    const run = () => {
      tf.engine().runKernel<tf.Tensor>('Conv2DBackpropFilter', { x, dy }, attrs).dispose();
      const w1 = tf.engine().runKernel('Conv2DBackpropFilter', { x: x1, dy: dy1 }, attrs1);
      (w1 as tf.Tensor).dispose();
    };
    expectNoWasmLeak(run);
    tf.dispose([x, dy, x1, dy1]);
  });
});
