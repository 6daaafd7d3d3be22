import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { stockKernelConfig } from './common';
import { expectNoWasmLeak, initBackends, on, seeded } from './test-utils';

type Pad = 'same' | 'valid';
// x shape, filter size, strides, pad
const cases: [number[], number | [number, number], number | [number, number], Pad][] = [
  [[1, 4, 4, 1], 2, 2, 'valid'],
  [[2, 6, 6, 3], 2, 2, 'same'],
  [[2, 7, 5, 2], 2, 2, 'same'], // odd sizes: partial windows at the edges
  [[2, 7, 5, 3], 2, 2, 'valid'], // odd sizes: the last row and column are in no window
  [[2, 7, 7, 3], 3, 2, 'valid'], // overlapping windows
  [[1, 7, 6, 4], 3, 1, 'same'],
  [[3, 5, 8, 2], [2, 3], [1, 2], 'valid'],
  [[2, 9, 9, 1], 3, 3, 'same'],
];

/** x with repeated values (ties) and, with `negative`, only values < 0. */
function input(shape: number[], seed: number, negative: boolean): Float32Array {
  const v = seeded(
    shape.reduce((a, b) => a * b, 1),
    seed,
    0,
    4,
  ).map(Math.floor);
  return negative ? v.map((x) => -1 - x) : v.map((x) => x - 2);
}

function maxPoolGrad(
  xv: Float32Array,
  shape: number[],
  filter: Pad | number | number[],
  strides: number | number[],
  pad: Pad,
) {
  return () =>
    tf.grad((x: tf.Tensor) =>
      tf
        .maxPool(x as tf.Tensor4D, filter as [number, number], strides as [number, number], pad)
        .mul(tf.range(1, 100).slice(0, shape[3]).reshape([1, 1, 1, -1]))
        .sum(),
    )(tf.tensor(xv, shape));
}

describe('MaxPoolGrad on wasm', () => {
  beforeAll(initBackends);

  it.each(cases.flatMap((c) => [[...c, false] as const, [...c, true] as const]))(
    'x %j filter %j strides %j pad %j all-negative %s: exactly equal to cpu (ties included)',
    async (shape, filter, strides, pad, negative) => {
      const xv = input(shape, 31, negative);
      const f = maxPoolGrad(xv, shape, filter, strides, pad);
      const [ref] = await on('cpu', f);
      const [got] = await on('wasm', f);
      expect(got!.shape).toEqual(shape);
      expect(Array.from(got!.values)).toEqual(Array.from(ref!.values));
    },
  );

  it('random float dy with overlapping windows: exactly equal to cpu (same float64 sum order)', async () => {
    const shape = [2, 9, 8, 3];
    const xv = seeded(2 * 9 * 8 * 3, 32);
    const dyShape = [2, 8, 7, 3];
    const dyv = seeded(2 * 8 * 7 * 3, 33);
    const f = () => {
      const x = tf.tensor(xv, shape);
      const out = tf.maxPool(x as tf.Tensor4D, 2, 1, 'valid');
      return tf
        .engine()
        .runKernel<tf.Tensor>(
          'MaxPoolGrad',
          { dy: tf.tensor(dyv, dyShape), input: x, output: out },
          { filterSize: 2, strides: 1, pad: 'valid' },
        );
    };
    const [ref] = await on('cpu', f);
    const [got] = await on('wasm', f);
    expect(Array.from(got!.values)).toEqual(Array.from(ref!.values));
  });

  it('the stock wasm kernel is wrong on an all-negative window; ours equals cpu', async () => {
    // One 2x2 window, all negative, max at index 3 (-0.5).
    const xv = new Float32Array([-3, -2, -4, -0.5]);
    const run = (kernel?: tf.KernelFunc) => () => {
      const x = tf.tensor4d(xv, [1, 2, 2, 1]);
      const inputs = { dy: tf.ones([1, 1, 1, 1]), input: x, output: tf.maxPool(x, 2, 2, 'valid') };
      const attrs = { filterSize: 2, strides: 2, pad: 'valid' as const };
      if (kernel == null) return tf.engine().runKernel<tf.Tensor>('MaxPoolGrad', inputs, attrs);
      const backend = tf.backend();
      const info = kernel({ inputs, backend, attrs }) as tf.TensorInfo;
      return tf.engine().makeTensorFromTensorInfo(info);
    };
    const [ref] = await on('cpu', run());
    expect(Array.from(ref!.values)).toEqual([0, 0, 0, 1]);
    const [ours] = await on('wasm', run());
    expect(Array.from(ours!.values)).toEqual([0, 0, 0, 1]);
    const [stock] = await on('wasm', run(stockKernelConfig('MaxPoolGrad')!.kernelFunc));
    expect(Array.from(stock!.values)).not.toEqual([0, 0, 0, 1]);
  });

  it('leaks no tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(seeded(2 * 6 * 6 * 3, 34), [2, 6, 6, 3]);
    const g = tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 3, 2, 'same').sum());
    expectNoWasmLeak(() => g(x).dispose());
    x.dispose();
  });
});
