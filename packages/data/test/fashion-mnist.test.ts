// Slow (seconds): decodes the whole fashion-mnist package. The fast loader tests are in
// src/mnist.test.ts.
import { describe, expect, it } from 'vitest';
import { FASHION_MNIST_CLASS_NAMES, loadFashionMnist } from '../src/mnist';

describe('loadFashionMnist (real fashion-mnist package)', () => {
  it('loads all 70,000 images, 7,000 per class, in class order', async () => {
    const ds = await loadFashionMnist();
    expect(ds.shape).toEqual([70000, 28, 28, 1]);
    expect(ds.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
    expect(ds.classNames[0]).toBe('T-shirt/top');
    expect(ds.classNames[9]).toBe('Ankle boot');
    const counts = new Array<number>(10).fill(0);
    for (const l of ds.labels) counts[l] = (counts[l] ?? 0) + 1;
    expect(counts).toEqual(new Array<number>(10).fill(7000));
    expect(ds.labels[0]).toBe(0);
    expect(ds.labels[69999]).toBe(9);
  });
});
