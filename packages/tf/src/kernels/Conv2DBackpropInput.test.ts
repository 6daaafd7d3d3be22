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

// The shared geometries (the 4th: the last input row/col gets no gradient), then this kernel's
// own routes.
const cases: ConvCase[] = [
  ...CONV_CASES,
  // Few input channels (a first layer's dx): the col2im route.
  [[2, 9, 8, 1], [3, 3, 32], 1, 'same'],
  [[2, 9, 8, 1], [3, 3, 32], 1, 'valid'],
  // Stride 2 with more channels (either route, by the cost estimate).
  [[2, 9, 9, 16], [3, 3, 16], 2, 'same'],
  [[2, 10, 9, 12], [3, 2, 8], [2, 1], 'valid'],
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
  [
    [2, 7, 6, 2],
    [3, 3, 3],
    1,
    [
      [0, 0],
      [3, 0],
      [0, 0],
      [0, 0],
    ],
  ], // pad > filter: the col2im route
];

const TOL = CONV_TOL;
const bound = convBound;

describe('Conv2DBackpropInput on wasm', () => {
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
    const filter = {
      shape: filterShape,
      values: seeded(
        filterShape.reduce((a, b) => a * b),
        1,
      ),
    };
    const dy = {
      shape: dyShape,
      values: seeded(
        dyShape.reduce((a, b) => a * b),
        2,
      ),
    };
    const attrs = { strides, pad, dataFormat: 'NHWC', inputShape: xShape };
    const [ref] = await runKernelOn('cpu', 'Conv2DBackpropInput', { dy, filter }, attrs);
    const [got] = await runKernelOn('wasm', 'Conv2DBackpropInput', { dy, filter }, attrs);
    expect(got!.shape).toEqual(xShape);
    const { err, scale } = maxErr(got!.values, ref!.values);
    expect(scale).toBeGreaterThan(0);
    expect(err).toBeLessThanOrEqual(bound(scale));
  });

  it(`NCHW matches cpu: ${TOL}`, async () => {
    const filter = { shape: [3, 3, 3, 4], values: seeded(3 * 3 * 3 * 4, 3) };
    const dy = { shape: [2, 4, 4, 3], values: seeded(2 * 4 * 4 * 3, 4) };
    const attrs = { strides: 2, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 3, 7, 6] };
    const [ref] = await runKernelOn('cpu', 'Conv2DBackpropInput', { dy, filter }, attrs);
    const [got] = await runKernelOn('wasm', 'Conv2DBackpropInput', { dy, filter }, attrs);
    expect(got!.shape).toEqual([2, 3, 7, 6]);
    const { err, scale } = maxErr(got!.values, ref!.values);
    expect(err).toBeLessThanOrEqual(bound(scale));
  });

  it(`tf.grad of conv2d with respect to x matches cpu: ${TOL}`, async () => {
    const xv = seeded(2 * 9 * 9 * 3, 5);
    const fv = seeded(3 * 3 * 3 * 4, 6);
    const g = () => {
      const x = tf.tensor4d(xv, [2, 9, 9, 3]);
      const filter = tf.tensor4d(fv, [3, 3, 3, 4]);
      return tf.grad((a: tf.Tensor) =>
        tf
          .conv2d(a as tf.Tensor4D, filter, 2, 'same')
          .square()
          .sum(),
      )(x);
    };
    const ref = await on('cpu', g);
    const got = await on('wasm', g);
    const { err, scale } = maxErr(got[0]!.values, ref[0]!.values);
    expect(err).toBeLessThanOrEqual(bound(scale));
  });

  it('leaks no tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    const filter = tf.tensor4d(seeded(3 * 3 * 3 * 4, 7), [3, 3, 3, 4]);
    const dy = tf.tensor4d(seeded(2 * 3 * 3 * 4, 8), [2, 3, 3, 4]);
    const dyNCHW = tf.tensor4d(seeded(2 * 3 * 3 * 4, 9), [2, 4, 3, 3]);
    const run = (dataFormat: string, shape: number[]) =>
      tf
        .engine()
        .runKernel<tf.Tensor>(
          'Conv2DBackpropInput',
          { dy: dataFormat === 'NHWC' ? dy : dyNCHW, filter },
          { strides: 2, pad: 'valid', dataFormat, inputShape: shape },
        )
        .dispose();
    // Those take the col2im route; this one the conv route.
    const filter16 = tf.tensor4d(seeded(3 * 3 * 16 * 4, 10), [3, 3, 16, 4]);
    const dy8 = tf.tensor4d(seeded(2 * 8 * 8 * 4, 11), [2, 8, 8, 4]);
    const runConv = () => {
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 8, 8, 16] };
      const out = tf
        .engine()
        .runKernel('Conv2DBackpropInput', { dy: dy8, filter: filter16 }, attrs);
      (out as tf.Tensor).dispose();
    };
    expectNoWasmLeak(() => {
      run('NHWC', [2, 8, 8, 3]);
      run('NCHW', [2, 3, 8, 8]);
      runConv();
    });
    tf.dispose([filter, dy, dyNCHW, filter16, dy8]);
  });
});
