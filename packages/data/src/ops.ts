import { allocLike, gather, imageSize } from './dataset';
import { DataError } from './errors';
import { checkDataOptions } from './options';
import { checkSeed, createRng, permutation } from './random';
import type { ImageDataset } from './types';

function invalid(message: string, data: Record<string, unknown> = {}): DataError {
  return new DataError('INVALID_OPTION', message, { data });
}

function checkCount(value: unknown, where: string, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw invalid(
      `${where}: ${what} ${String(value)} is not valid (expected a non-negative integer)`,
      {
        expected: 'integer >= 0',
        actual: value,
      },
    );
  }
  return value;
}

/** `count` of `take`/`skip`: a non-negative integer no larger than the dataset. */
function checkCountWithin(ds: ImageDataset, count: number, where: string): void {
  checkCount(count, where, 'count');
  if (count > ds.shape[0]) {
    throw invalid(
      `${where}: count ${count} exceeds the dataset's ${ds.shape[0]} images (expected <= ${ds.shape[0]})`,
      {
        expected: `<= ${ds.shape[0]}`,
        actual: count,
      },
    );
  }
}

/**
 * Images `[start, end)` as views (subarrays) of the same memory: no pixels are copied, so writing
 * into the result writes into `ds`. Negative or too-large bounds are errors, not clamped, so
 * "the first 10,000 images" is exact.
 *
 * @param ds - the dataset
 * @param start - first index (inclusive)
 * @param end - last index (exclusive); default `n`
 * @returns a dataset of `end - start` images
 * @throws DataError `INVALID_OPTION` when `0 <= start <= end <= n` does not hold
 * @example
 * ```ts
 * const next10k = slice(train, 10_000, 20_000);
 * ```
 */
export function slice(ds: ImageDataset, start: number, end: number = ds.shape[0]): ImageDataset {
  const n = ds.shape[0];
  checkCount(start, 'slice', 'start');
  checkCount(end, 'slice', 'end');
  if (start > end || end > n) {
    throw invalid(
      `slice: range [${start}, ${end}) is not within the dataset's ${n} images (expected 0 <= start <= end <= ${n})`,
      {
        expected: `0 <= start <= end <= ${n}`,
        actual: [start, end],
      },
    );
  }
  const size = imageSize(ds);
  return {
    images: ds.images.subarray(start * size, end * size),
    shape: [end - start, ds.shape[1], ds.shape[2], ds.shape[3]],
    labels: ds.labels.subarray(start, end),
    classNames: ds.classNames,
  };
}

/**
 * The first `count` images, as views (see {@link slice}).
 *
 * @param ds - the dataset
 * @param count - how many; must be `<= n`
 * @returns a dataset of `count` images
 * @throws DataError `INVALID_OPTION` when `count` is negative or larger than the dataset
 * @example
 * ```ts
 * const first10k = take(await loadMnist(), 10_000);
 * ```
 */
export function take(ds: ImageDataset, count: number): ImageDataset {
  checkCountWithin(ds, count, 'take');
  return slice(ds, 0, count);
}

/**
 * Everything after the first `count` images, as views (see {@link slice}).
 *
 * @param ds - the dataset
 * @param count - how many to drop; must be `<= n`
 * @returns a dataset of `n - count` images
 * @throws DataError `INVALID_OPTION` when `count` is negative or larger than the dataset
 * @example
 * ```ts
 * const rest = skip(train, 10_000);
 * ```
 */
export function skip(ds: ImageDataset, count: number): ImageDataset {
  checkCountWithin(ds, count, 'skip');
  return slice(ds, count, ds.shape[0]);
}

/**
 * A seeded random permutation of the dataset (Fisher-Yates driven by mulberry32, see
 * {@link createRng}). Copies the images. Same seed, same order, in every process.
 *
 * @param ds - the dataset
 * @param seed - a safe integer
 * @returns a new, shuffled dataset
 * @throws DataError `INVALID_OPTION` for a bad seed
 * @example
 * ```ts
 * const shuffled = shuffle(train, 42);
 * ```
 */
export function shuffle(ds: ImageDataset, seed: number): ImageDataset {
  checkSeed(seed, 'shuffle');
  return gather(ds, permutation(ds.shape[0], createRng(seed, 0x5348)));
}

/**
 * Sizes of the parts of a split: all fractions (each in [0, 1], summing to at most 1) or all
 * counts (non-negative integers summing to at most n). Omitted parts are empty. Sizes are read as
 * counts when every size is an integer and at least one is greater than 1 (so `{ train: 1 }` means
 * "everything", not "one image").
 */
export interface SplitSizes {
  train: number;
  validation?: number;
  test?: number;
}

/** The parts of a split. Images keep their original relative order within each part. */
export interface SplitResult {
  train: ImageDataset;
  validation: ImageDataset;
  test: ImageDataset;
}

function resolveSizes(sizes: SplitSizes, n: number, where: string): [number, number, number] {
  if (sizes === undefined)
    throw invalid(`${where}: sizes are missing (expected { train, validation?, test? })`);
  checkDataOptions(sizes, ['train', 'validation', 'test'], `${where} sizes`);
  const parts = [sizes.train, sizes.validation ?? 0, sizes.test ?? 0];
  for (const [i, v] of parts.entries()) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw invalid(
        `${where}: ${['train', 'validation', 'test'][i]} size ${String(v)} is not valid (expected a fraction in [0, 1] or a count)`,
        {
          actual: v,
        },
      );
    }
  }
  const allIntegers = parts.every((v) => Number.isInteger(v));
  const sum = parts.reduce((a, b) => a + b, 0);
  // Counts when every part is an integer and at least one exceeds 1 (so {train: 1} means "all").
  const asCounts = allIntegers && parts.some((v) => v > 1);
  if (asCounts) {
    if (sum > n)
      throw invalid(`${where}: sizes sum to ${sum} images (expected <= ${n}, the dataset size)`, {
        expected: `<= ${n}`,
        actual: sum,
      });
    return parts as [number, number, number];
  }
  if (parts.some((v) => v > 1))
    throw invalid(
      `${where}: mixes fractions and counts ${JSON.stringify(sizes)} (expected all fractions or all counts)`,
      { actual: sizes },
    );
  if (sum > 1 + 1e-9)
    throw invalid(`${where}: fractions sum to ${sum} (expected <= 1)`, {
      expected: '<= 1',
      actual: sum,
    });
  const counts = parts.map((f) => Math.round(f * n));
  // Rounding can overshoot by one or two; take it from the largest part.
  let over = counts.reduce((a, b) => a + b, 0) - n;
  while (over > 0) {
    const i = counts.indexOf(Math.max(...counts));
    counts[i] = (counts[i] as number) - 1;
    over--;
  }
  return counts as [number, number, number];
}

function sortedSubset(ds: ImageDataset, indices: number[]): ImageDataset {
  indices.sort((a, b) => a - b);
  return gather(ds, indices);
}

/**
 * A seeded random split into train / validation / test (not stratified; see
 * {@link stratifiedSplit}). Each part keeps the original relative order of its images.
 *
 * @param ds - the dataset
 * @param sizes - fractions or counts per part
 * @param seed - a safe integer
 * @returns the three parts (copies)
 * @throws DataError `INVALID_OPTION` for bad sizes or seed
 * @example
 * ```ts
 * const { train, validation } = split(ds, { train: 0.9, validation: 0.1 }, 7);
 * ```
 */
export function split(ds: ImageDataset, sizes: SplitSizes, seed: number): SplitResult {
  checkSeed(seed, 'split');
  const [a, b, c] = resolveSizes(sizes, ds.shape[0], 'split');
  const p = Array.from(permutation(ds.shape[0], createRng(seed, 0x5350)));
  return {
    train: sortedSubset(ds, p.slice(0, a)),
    validation: sortedSubset(ds, p.slice(a, a + b)),
    test: sortedSubset(ds, p.slice(a + b, a + b + c)),
  };
}

/**
 * A seeded split that keeps every class's share the same in each part (largest-remainder
 * allocation per class, then a seeded pick within each class). Part sizes are exact: fractions are
 * rounded once for the whole dataset. Each part keeps the original relative order of its images.
 *
 * @param ds - the dataset
 * @param sizes - fractions or counts per part
 * @param seed - a safe integer
 * @returns the three parts (copies)
 * @throws DataError `INVALID_OPTION` for bad sizes or seed
 * @example
 * ```ts
 * const { train, validation, test } = stratifiedSplit(ds, { train: 0.8, validation: 0.1, test: 0.1 }, 1);
 * ```
 */
export function stratifiedSplit(ds: ImageDataset, sizes: SplitSizes, seed: number): SplitResult {
  checkSeed(seed, 'stratifiedSplit');
  const n = ds.shape[0];
  const totals = resolveSizes(sizes, n, 'stratifiedSplit');
  const k = ds.classNames.length;
  const byClass: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) byClass[ds.labels[i] as number]?.push(i);
  // Seeded order inside each class.
  const pools = byClass.map((idx, c) => {
    const p = permutation(idx.length, createRng(seed, 0x5354, c));
    return Array.from(p, (j) => idx[j] as number);
  });
  const remaining = pools.map((p) => p.length);
  const out: number[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    const total = totals[s] as number;
    if (total === 0) continue;
    const quotas = byClass.map((idx) => (total * idx.length) / n);
    const alloc = quotas.map((q, c) => Math.min(Math.floor(q), remaining[c] as number));
    let left = total - alloc.reduce((a, b) => a + b, 0);
    const order = quotas
      .map((q, c) => ({ c, r: q - Math.floor(q) }))
      .sort((x, y) => y.r - x.r || x.c - y.c);
    while (left > 0) {
      let progressed = false;
      for (const { c } of order) {
        if (left === 0) break;
        if ((alloc[c] as number) < (remaining[c] as number)) {
          alloc[c] = (alloc[c] as number) + 1;
          left--;
          progressed = true;
        }
      }
      if (!progressed) break;
    }
    for (let c = 0; c < k; c++) {
      const pool = pools[c] as number[];
      const start = pool.length - (remaining[c] as number);
      const take = alloc[c] as number;
      for (let j = 0; j < take; j++) (out[s] as number[]).push(pool[start + j] as number);
      remaining[c] = (remaining[c] as number) - take;
    }
  }
  return {
    train: sortedSubset(ds, out[0] as number[]),
    validation: sortedSubset(ds, out[1] as number[]),
    test: sortedSubset(ds, out[2] as number[]),
  };
}

/** Options of {@link filterClasses}. */
export interface FilterClassesOptions {
  /**
   * Default true: labels become indices into the selected classes (in the order given) and
   * `classNames` becomes the selected names. False: labels and classNames are kept.
   */
  relabel?: boolean;
}

/**
 * Keeps only the images of some classes (copies them, in original order).
 *
 * @param ds - the dataset
 * @param classes - class names or class indices to keep
 * @param options - `relabel` (default true)
 * @returns the filtered dataset
 * @throws DataError `INVALID_OPTION` for an unknown class or a duplicate
 * @example
 * ```ts
 * const digits01 = filterClasses(mnist, ['0', '1']); // labels 0/1, classNames ['0','1']
 * ```
 */
export function filterClasses(
  ds: ImageDataset,
  classes: readonly (string | number)[],
  options: FilterClassesOptions = {},
): ImageDataset {
  checkDataOptions(options, ['relabel'], 'filterClasses options');
  const relabel = options.relabel ?? true;
  const k = ds.classNames.length;
  const picked = classes.map((cl) => {
    const idx =
      typeof cl === 'number'
        ? Number.isInteger(cl) && cl >= 0 && cl < k
          ? cl
          : -1
        : ds.classNames.indexOf(cl);
    if (idx < 0) {
      throw invalid(
        `filterClasses: class ${JSON.stringify(cl)} is not in the dataset (expected one of ${JSON.stringify(ds.classNames)} or an index 0..${k - 1})`,
        {
          expected: ds.classNames,
          actual: cl,
        },
      );
    }
    return idx;
  });
  if (new Set(picked).size !== picked.length) {
    throw invalid(
      `filterClasses: classes ${JSON.stringify(classes)} contain a duplicate (expected each class once)`,
      { actual: classes },
    );
  }
  const map = new Int32Array(k).fill(-1);
  picked.forEach((c, j) => (map[c] = j));
  const indices: number[] = [];
  for (let i = 0; i < ds.shape[0]; i++)
    if ((map[ds.labels[i] as number] as number) >= 0) indices.push(i);
  const out = gather(ds, indices);
  if (!relabel) return out;
  for (let i = 0; i < out.labels.length; i++)
    out.labels[i] = map[out.labels[i] as number] as number;
  return { ...out, classNames: picked.map((c) => ds.classNames[c] as string) };
}

/**
 * Concatenates datasets with the same image size, channel count, dtype and class names (copies).
 *
 * @param datasets - one or more datasets
 * @returns all images of the first, then the second, ...
 * @throws DataError `INVALID_OPTION` for no input, `BAD_DIMENSIONS` for different image
 *   shapes, `INVALID_OPTION` for different dtypes or class names
 * @example
 * ```ts
 * const both = concat(take(train, 100), take(test, 100));
 * ```
 */
export function concat(...datasets: ImageDataset[]): ImageDataset {
  const first = datasets[0];
  if (first === undefined) throw invalid('concat: no datasets given (expected at least one)');
  const [, h, w, c] = first.shape;
  const isFloat = first.images instanceof Float32Array;
  let n = 0;
  for (const [i, ds] of datasets.entries()) {
    if (ds.shape[1] !== h || ds.shape[2] !== w || ds.shape[3] !== c) {
      throw new DataError(
        'BAD_DIMENSIONS',
        `concat: dataset ${i} has images ${ds.shape.slice(1).join('x')} (expected ${h}x${w}x${c} like dataset 0)`,
        {
          data: { expected: [h, w, c], actual: ds.shape.slice(1), index: i },
        },
      );
    }
    if (ds.images instanceof Float32Array !== isFloat) {
      throw invalid(
        `concat: dataset ${i} is ${ds.images.constructor.name} (expected ${first.images.constructor.name} like dataset 0)`,
        { index: i },
      );
    }
    if (
      ds.classNames.length !== first.classNames.length ||
      ds.classNames.some((name, j) => name !== first.classNames[j])
    ) {
      throw invalid(
        `concat: dataset ${i} has classNames ${JSON.stringify(ds.classNames)} (expected ${JSON.stringify(first.classNames)} like dataset 0)`,
        {
          expected: first.classNames,
          actual: ds.classNames,
          index: i,
        },
      );
    }
    n += ds.shape[0];
  }
  const images = allocLike(first.images, n * h * w * c);
  const labels = new Int32Array(n);
  let at = 0;
  for (const ds of datasets) {
    images.set(ds.images, at * h * w * c);
    labels.set(ds.labels, at);
    at += ds.shape[0];
  }
  return { images, shape: [n, h, w, c], labels, classNames: first.classNames };
}

/** Options of {@link batches}. */
export interface BatchesOptions {
  /** Visit the images in a seeded random order (needs `seed`). Default false. */
  shuffle?: boolean;
  /** Seed of the shuffle; vary it per epoch (e.g. `baseSeed + epoch`). */
  seed?: number;
  /** Drop a last batch smaller than `batchSize`. Default false. */
  dropRemainder?: boolean;
}

/**
 * Iterates over the dataset in batches, each an {@link ImageDataset}. Without shuffling every batch
 * is a view (subarray) of `ds`, no copies; with shuffling each batch is gathered into its own small
 * arrays (never the whole set). Synchronous iterator; also usable with `for await`.
 *
 * @param ds - the dataset
 * @param batchSize - images per batch (a positive integer)
 * @param options - shuffle, seed, dropRemainder
 * @returns an iterator of batches
 * @throws DataError `INVALID_OPTION` for a bad batch size, or `shuffle` without a `seed`
 * @example
 * ```ts
 * for (const batch of batches(train, 64, { shuffle: true, seed: epoch })) {
 *   train(batch.images, batch.labels, batch.shape);
 * }
 * ```
 */
export function* batches(
  ds: ImageDataset,
  batchSize: number,
  options: BatchesOptions = {},
): Generator<ImageDataset, void, undefined> {
  checkDataOptions(options, ['shuffle', 'seed', 'dropRemainder'], 'batches options');
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw invalid(
      `batches: batchSize ${String(batchSize)} is not valid (expected a positive integer)`,
      { actual: batchSize },
    );
  }
  let order: Uint32Array | undefined;
  if (options.shuffle) {
    if (options.seed === undefined)
      throw invalid('batches: shuffle is true but no seed was given (expected options.seed)');
    checkSeed(options.seed, 'batches');
    order = permutation(ds.shape[0], createRng(options.seed, 0x4254));
  }
  const n = ds.shape[0];
  const end = options.dropRemainder ? n - (n % batchSize) : n;
  for (let start = 0; start < end; start += batchSize) {
    const stop = Math.min(start + batchSize, end);
    yield order ? gather(ds, order.subarray(start, stop)) : slice(ds, start, stop);
  }
}

/** Options of {@link toFloat32}. */
export interface ToFloat32Options {
  /** Multiplier. Default `1/255` for Uint8 images, `1` for Float32 images. */
  scale?: number;
  /** Added after scaling. Default 0. */
  offset?: number;
}

/**
 * Converts the images to Float32 as `pixel * scale + offset` (by default Uint8 0..255 -> 0..1).
 * Labels are shared, images copied.
 *
 * @param ds - the dataset
 * @param options - scale and offset
 * @returns a Float32 dataset
 * @throws DataError `INVALID_OPTION` for a non-finite scale or offset
 * @example
 * ```ts
 * const f = toFloat32(mnist); // images in [0, 1]
 * ```
 */
export function toFloat32(ds: ImageDataset, options: ToFloat32Options = {}): ImageDataset {
  checkDataOptions(options, ['scale', 'offset'], 'toFloat32 options');
  const scale = options.scale ?? (ds.images instanceof Uint8Array ? 1 / 255 : 1);
  const offset = options.offset ?? 0;
  if (!Number.isFinite(scale) || !Number.isFinite(offset)) {
    throw invalid(
      `toFloat32: scale ${scale} / offset ${offset} is not valid (expected finite numbers)`,
      { actual: { scale, offset } },
    );
  }
  const src = ds.images;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = (src[i] as number) * scale + offset;
  return { images: out, shape: ds.shape, labels: ds.labels, classNames: ds.classNames };
}
