import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackends, on, seeded, wasmDataIds } from './test-utils';

// x shape, indices shape, axis
const cases: [number[], number[], number][] = [
  [[10, 3, 4], [5], 0], // a batch of rows (model.fit)
  [[10, 3, 4], [2, 3], 0],
  [[4, 6, 20], [7], 1],
  [[4, 6, 5], [3], -1],
  [[4, 6, 5], [3], 2],
  [[5], [8], 0],
  [[3, 4], [0], 0],
];

describe('GatherV2 on wasm', () => {
  beforeAll(initBackends);

  it.each(cases)('GatherV2 x %j indices %j axis %d: equal to cpu', async (shape, iShape, axis) => {
    const v = seeded(
      shape.reduce((a, b) => a * b, 1),
      52,
    );
    const dim = shape[axis < 0 ? shape.length + axis : axis]!;
    const n = iShape.reduce((a, b) => a * b, 1);
    const idx = Array.from(seeded(n, 53, 0, dim), Math.floor);
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      // Values built per dtype (the stock wasm Cast to bool truncates instead of testing != 0).
      const data = Array.from(v, (e) =>
        dtype === 'float32' ? e : dtype === 'bool' ? +(e > 0) : Math.round(e * 9),
      );
      const f = () =>
        tf.gather(tf.tensor(data, shape, dtype), tf.tensor(idx, iShape, 'int32'), axis);
      const [ref] = await on('cpu', f);
      const [got] = await on('wasm', f);
      expect(got!.shape).toEqual(ref!.shape);
      expect(Array.from(got!.values)).toEqual(Array.from(ref!.values));
    }
  });

  it('GatherV2 with an index out of range throws as the stock kernel does', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const i = tf.tensor1d([0, 2], 'int32');
    expect(() => tf.gather(x, i)).toThrow(/GatherV2: the index value 2 is not in \[0, 1\]/);
    tf.dispose([x, i]);
  });

  it('GatherV2 leaks no tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor3d(seeded(60, 54), [5, 3, 4]);
    const i = tf.tensor1d([2, 0, 1], 'int32');
    tf.gather(x, i).dispose();
    const before = { ...tf.memory(), ids: wasmDataIds() };
    for (let k = 0; k < 3; k++) tf.gather(x, i, 1 - (k % 2)).dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(wasmDataIds()).toBe(before.ids);
    tf.dispose([x, i]);
  });
});
