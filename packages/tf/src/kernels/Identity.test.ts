import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackends, seeded, wasmDataIds } from './test-utils';

describe('Identity on wasm', () => {
  beforeAll(initBackends);

  it('tf.clone equals its input and outlives it (Identity aliases refcounted data)', async () => {
    await tf.setBackend('wasm');
    const before = { ...tf.memory(), ids: wasmDataIds() };
    const x = tf.tensor2d(seeded(6, 51), [2, 3]);
    const values = Array.from(x.dataSync());
    const y = tf.clone(x);
    const r = y.reshape([3, 2]);
    const z = tf.clone(r);
    r.dispose();
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual(values);
    y.dispose();
    expect(Array.from(z.dataSync())).toEqual(values);
    expect(z.shape).toEqual([3, 2]);
    z.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(wasmDataIds()).toBe(before.ids);
  });
});
