import { beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from './fingerprint';
import { loadMnist } from './mnist';
import { slice, take, toFloat32 } from './ops';
import type { ImageDataset } from './types';

let test: ImageDataset;
let small: ImageDataset;

beforeAll(async () => {
  test = await loadMnist({ split: 'test' });
  small = {
    ...take(test, 100),
    images: test.images.slice(0, 100 * 784),
    labels: test.labels.slice(0, 100),
  };
});

describe('fingerprint', () => {
  it('is pinned for the MNIST test split (format mlship-dataset-fingerprint/1)', () => {
    expect(fingerprint(test)).toBe(
      'sha256:a11a20d8c492969ed6f6d311613ff1d0813cdb0ccc1285c9b95d2383050ba3f7',
    );
  });

  it('hashes a view exactly like a copy of the same data', () => {
    const view = slice(test, 100, 200);
    const copy: ImageDataset = {
      ...view,
      images: view.images.slice(),
      labels: view.labels.slice(),
    };
    expect(fingerprint(view)).toBe(fingerprint(copy));
    expect(fingerprint(view)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it.each<[string, (ds: ImageDataset) => ImageDataset]>([
    ['one pixel', (ds) => ({ ...ds, images: ds.images.map((v, i) => (i === 5000 ? v ^ 1 : v)) })],
    [
      'one label',
      (ds) => ({ ...ds, labels: ds.labels.map((v, i) => (i === 50 ? (v + 1) % 10 : v)) }),
    ],
    [
      'one class name',
      (ds) => ({ ...ds, classNames: ds.classNames.map((c) => (c === '3' ? 'three' : c)) }),
    ],
    [
      'the order of two images',
      (ds) => ({
        ...ds,
        images: swapImages(ds.images as Uint8Array, 0, 1),
        labels: swapLabels(ds.labels, 0, 1),
      }),
    ],
    ['the dtype', (ds) => toFloat32(ds, { scale: 1 })],
    ['the shape (same bytes)', (ds) => ({ ...ds, shape: [100, 784, 1, 1] })],
  ])('changes when %s changes', (_what, change) => {
    expect(fingerprint(change(small))).not.toBe(fingerprint(small));
  });

  it('rejects an inconsistent dataset', () => {
    expect(() => fingerprint({ ...small, shape: [101, 28, 28, 1] })).toThrow(
      /images.length 78400 \(expected n\*h\*w\*c = 79184\)/,
    );
    expect(() =>
      fingerprint({ ...small, labels: small.labels.map((v, i) => (i === 3 ? 10 : v)) }),
    ).toThrow(/label 10 at index 3/);
  });
});

function swapImages(images: Uint8Array, a: number, b: number): Uint8Array {
  const out = images.slice();
  out.set(images.subarray(b * 784, (b + 1) * 784), a * 784);
  out.set(images.subarray(a * 784, (a + 1) * 784), b * 784);
  return out;
}

function swapLabels(labels: Int32Array, a: number, b: number): Int32Array {
  const out = labels.slice();
  out[a] = labels[b] as number;
  out[b] = labels[a] as number;
  return out;
}
