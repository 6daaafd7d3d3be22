import { DataError } from './errors';
import type { ImageDataset } from './types';

/**
 * Checks that a dataset is internally consistent: shape entries are non-negative integers,
 * `images.length === n*h*w*c`, `labels.length === n`, every label is a class index.
 *
 * @param ds - the dataset
 * @returns the same dataset, for chaining
 * @throws DataError `INVALID_DATASET` naming the inconsistency
 * @example
 * ```ts
 * validateDataset(await loadMnist({ split: 'test' }));
 * ```
 */
export function validateDataset<T extends ImageDataset>(ds: T): T {
  const bad = (msg: string, data: Record<string, unknown>): DataError =>
    new DataError('INVALID_DATASET', `invalid ImageDataset: ${msg}`, { data });
  if (!(ds.images instanceof Uint8Array) && !(ds.images instanceof Float32Array)) {
    throw bad(
      `images is ${Object.prototype.toString.call(ds.images)} (expected Uint8Array or Float32Array)`,
      {},
    );
  }
  if (
    !Array.isArray(ds.shape) ||
    ds.shape.length !== 4 ||
    !ds.shape.every((d) => Number.isInteger(d) && d >= 0)
  ) {
    throw bad(
      `shape ${JSON.stringify(ds.shape)} (expected [n, h, w, c] of non-negative integers)`,
      { actual: ds.shape },
    );
  }
  const [n, h, w, c] = ds.shape;
  if (ds.images.length !== n * h * w * c) {
    throw bad(`images.length ${ds.images.length} (expected n*h*w*c = ${n * h * w * c})`, {
      expected: n * h * w * c,
      actual: ds.images.length,
    });
  }
  if (!(ds.labels instanceof Int32Array) || ds.labels.length !== n) {
    throw bad(
      `labels has length ${ds.labels?.length} (expected an Int32Array of length n = ${n})`,
      {
        expected: n,
        actual: ds.labels?.length,
      },
    );
  }
  const k = ds.classNames.length;
  for (let i = 0; i < n; i++) {
    const v = ds.labels[i] as number;
    if (v < 0 || v >= k) {
      throw new DataError(
        'LABEL_OUT_OF_RANGE',
        `invalid ImageDataset: label ${v} at index ${i} (expected 0..${k - 1} for ${k} classes)`,
        {
          data: { expected: `0..${k - 1}`, actual: v, index: i },
        },
      );
    }
  }
  return ds;
}

/** @internal Pixels per image. */
export function imageSize(ds: ImageDataset): number {
  return ds.shape[1] * ds.shape[2] * ds.shape[3];
}

/** @internal Empty array of the same type. */
export function allocLike(
  images: Uint8Array | Float32Array,
  length: number,
): Uint8Array | Float32Array {
  return images instanceof Float32Array ? new Float32Array(length) : new Uint8Array(length);
}

/** @internal Copies the given images (by index) into a new dataset. */
export function gather(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const size = imageSize(ds);
  const m = indices.length;
  const images = allocLike(ds.images, m * size);
  const labels = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    const i = indices[j] as number;
    images.set(ds.images.subarray(i * size, (i + 1) * size), j * size);
    labels[j] = ds.labels[i] as number;
  }
  return {
    images,
    shape: [m, ds.shape[1], ds.shape[2], ds.shape[3]],
    labels,
    classNames: ds.classNames,
  };
}
