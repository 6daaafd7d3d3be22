import { gunzipSync } from 'node:zlib';
import { DataError } from './errors';
import { nodeDataFs, readFileOrThrow } from './fs';
import { checkDataOptions } from './options';
import type { DataFs, ImageDataset } from './types';

/**
 * Magic number of an IDX file of unsigned-byte images: dtype 0x08, three dimensions.
 *
 * @example
 * ```ts
 * const isImages = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0) === IDX_IMAGES_MAGIC;
 * ```
 */
export const IDX_IMAGES_MAGIC = 0x00000803;
/**
 * Magic number of an IDX file of unsigned-byte labels: dtype 0x08, one dimension.
 *
 * @example
 * ```ts
 * const isLabels = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0) === IDX_LABELS_MAGIC;
 * ```
 */
export const IDX_LABELS_MAGIC = 0x00000801;

/** A parsed IDX file: its dimensions and the unsigned-byte payload. */
export interface IdxArray {
  /** Dimensions from the header, outermost first (e.g. `[60000, 28, 28]`). */
  dims: number[];
  /** The payload, length = product of `dims`. Owns its memory (byteOffset 0). */
  data: Uint8Array;
}

/** Options of {@link parseIdx}. */
export interface ParseIdxOptions {
  /** Required rank (1 for labels, 3 for images). Default: any rank 1..4. */
  rank?: number;
}

function hex32(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

/**
 * Parses IDX bytes (the MNIST file format), raw or gzip-compressed (detected by the 1f 8b magic).
 * Only unsigned-byte payloads (dtype 0x08) are accepted. The file length must match the header
 * exactly.
 *
 * @param bytes - the file contents
 * @param name - the file name or path, used in error messages
 * @param options - optional rank check
 * @returns the dimensions and a copy of the payload
 * @throws DataError `DECODE_FAILED` (bad gzip), `TRUNCATED`, `BAD_MAGIC`, `BAD_DTYPE`,
 *   `BAD_DIMENSIONS`, `LENGTH_MISMATCH`
 * @example
 * ```ts
 * const { dims, data } = parseIdx(await readFile('t10k-labels-idx1-ubyte'), 't10k-labels');
 * // dims = [10000]
 * ```
 */
export function parseIdx(bytes: Uint8Array, name: string, options: ParseIdxOptions = {}): IdxArray {
  checkDataOptions(options, ['rank'], 'parseIdx options');
  let buf = bytes;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new DataError(
        'DECODE_FAILED',
        `${name}: gzip stream is corrupt (${(e as Error).message})`,
        {
          cause: e,
          data: { path: name },
        },
      );
    }
  }
  if (buf.length < 4) {
    throw new DataError(
      'TRUNCATED',
      `${name}: ${buf.length} bytes, too short for an IDX header (expected >= 4)`,
      {
        data: { path: name, expected: 4, actual: buf.length },
      },
    );
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new DataError(
      'BAD_MAGIC',
      `${name}: bad IDX magic ${hex32(magic)} (expected 0x0000TTNN, e.g. ${hex32(IDX_IMAGES_MAGIC)})`,
      {
        data: {
          path: name,
          expected: options.rank === 1 ? IDX_LABELS_MAGIC : IDX_IMAGES_MAGIC,
          actual: magic,
        },
      },
    );
  }
  const dtype = buf[2] ?? 0;
  const rank = buf[3] ?? 0;
  if (dtype !== 0x08) {
    throw new DataError(
      'BAD_DTYPE',
      `${name}: IDX dtype 0x${dtype.toString(16).padStart(2, '0')} is not supported (expected 0x08, unsigned byte)`,
      {
        data: { path: name, expected: 0x08, actual: dtype },
      },
    );
  }
  if (options.rank !== undefined && rank !== options.rank) {
    const expectedMagic = 0x0800 + options.rank;
    throw new DataError(
      'BAD_MAGIC',
      `${name}: magic ${hex32(magic)} has ${rank} dimension(s) (expected ${hex32(expectedMagic)}, ${options.rank} dimension(s))`,
      {
        data: { path: name, expected: expectedMagic, actual: magic },
      },
    );
  }
  if (rank < 1 || rank > 4) {
    throw new DataError(
      'BAD_DIMENSIONS',
      `${name}: IDX rank ${rank} is not supported (expected 1..4)`,
      {
        data: { path: name, expected: '1..4', actual: rank },
      },
    );
  }
  const headerLength = 4 + 4 * rank;
  if (buf.length < headerLength) {
    throw new DataError(
      'TRUNCATED',
      `${name}: ${buf.length} bytes, too short for a rank-${rank} IDX header (expected >= ${headerLength})`,
      {
        data: { path: name, expected: headerLength, actual: buf.length },
      },
    );
  }
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d === 0) {
      throw new DataError('BAD_DIMENSIONS', `${name}: dimension ${i} is 0 (expected >= 1)`, {
        data: { path: name, expected: '>= 1', actual: 0, dimension: i },
      });
    }
    dims.push(d);
    count *= d;
  }
  const expectedLength = headerLength + count;
  if (buf.length < expectedLength) {
    throw new DataError(
      'TRUNCATED',
      `${name}: file is ${buf.length} bytes but its header [${dims.join(', ')}] needs ${expectedLength}: truncated`,
      {
        data: { path: name, expected: expectedLength, actual: buf.length },
      },
    );
  }
  if (buf.length > expectedLength) {
    throw new DataError(
      'LENGTH_MISMATCH',
      `${name}: file is ${buf.length} bytes but its header [${dims.join(', ')}] needs exactly ${expectedLength}`,
      {
        data: { path: name, expected: expectedLength, actual: buf.length },
      },
    );
  }
  // Copy (Buffer#slice would be a view into a possibly pooled buffer): the dataset owns its memory.
  return { dims, data: new Uint8Array(buf.subarray(headerLength, expectedLength)) };
}

/** Options of {@link loadIdx}. */
export interface LoadIdxOptions {
  /** Class names; labels must be `< classNames.length`. Default: `'0'..String(maxLabel)`. */
  classNames?: readonly string[];
  /** File system to read through. Default: node:fs/promises. */
  fs?: DataFs;
}

/**
 * Loads an IDX image file (magic 0x00000803) and its IDX label file (0x00000801), raw or gzipped,
 * as a Uint8 {@link ImageDataset} of shape `[n, h, w, 1]`.
 *
 * @param imagesPath - path of the `*-images-idx3-ubyte[.gz]` file
 * @param labelsPath - path of the `*-labels-idx1-ubyte[.gz]` file
 * @param options - class names and file system
 * @returns the dataset
 * @throws DataError `FILE_NOT_FOUND`, `READ_FAILED`, the {@link parseIdx} codes, `COUNT_MISMATCH`
 *   (label count != image count), `LABEL_OUT_OF_RANGE`
 * @example
 * ```ts
 * const ds = await loadIdx('data/train-images-idx3-ubyte.gz', 'data/train-labels-idx1-ubyte.gz');
 * ds.shape; // [60000, 28, 28, 1]
 * ```
 */
export async function loadIdx(
  imagesPath: string,
  labelsPath: string,
  options: LoadIdxOptions = {},
): Promise<ImageDataset> {
  checkDataOptions(options, ['classNames', 'fs'], 'loadIdx options');
  const fs = options.fs ?? nodeDataFs;
  const [imageBytes, labelBytes] = await Promise.all([
    readFileOrThrow(fs, imagesPath, 'IDX images file'),
    readFileOrThrow(fs, labelsPath, 'IDX labels file'),
  ]);
  const img = parseIdx(imageBytes, imagesPath, { rank: 3 });
  const lab = parseIdx(labelBytes, labelsPath, { rank: 1 });
  const [n, h, w] = img.dims as [number, number, number];
  const nLabels = lab.dims[0] ?? 0;
  if (nLabels !== n) {
    throw new DataError(
      'COUNT_MISMATCH',
      `${labelsPath}: ${nLabels} labels but ${imagesPath} has ${n} images (expected ${n} labels)`,
      {
        data: { path: labelsPath, expected: n, actual: nLabels },
      },
    );
  }
  const labels = new Int32Array(n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = lab.data[i] ?? 0;
    labels[i] = v;
    if (v > max) max = v;
  }
  let classNames: readonly string[];
  if (options.classNames !== undefined) {
    classNames = [...options.classNames];
    if (max >= classNames.length) {
      const at = labels.indexOf(max);
      throw new DataError(
        'LABEL_OUT_OF_RANGE',
        `${labelsPath}: label ${max} at index ${at} is out of range (expected 0..${classNames.length - 1} for ${classNames.length} classes)`,
        {
          data: {
            path: labelsPath,
            expected: `0..${classNames.length - 1}`,
            actual: max,
            index: at,
          },
        },
      );
    }
  } else {
    classNames = Array.from({ length: max + 1 }, (_, i) => String(i));
  }
  return { images: img.data, shape: [n, h, w, 1], labels, classNames };
}
