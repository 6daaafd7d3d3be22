import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { describeError } from '@mlship/core';
import { DataError } from './errors';
import { fsError, nodeDataFs, readRegularFile, readRegularFileSync } from './fs';
import { checkDataOptions } from './options';
import { decodeRgba } from './decode-image';
import { rgbaToResized } from './resize';
import type { DataFs, ImageDataset } from './types';

/** Options of {@link loadImageFolder}. */
export interface LoadImageFolderOptions {
  /** Output height in pixels. */
  height: number;
  /** Output width in pixels. */
  width: number;
  /** 1 (grey, BT.601 luma) or 3 (RGB). Alpha is ignored. */
  channels: 1 | 3;
  /**
   * What to do with a file that cannot be read or decoded: `'fail'` (default) throws a DataError
   * naming it; `'skip'` leaves it out and lists it in `skipped`.
   */
  onError?: 'skip' | 'fail';
  /**
   * Class directories to load, in label order. Default: every sub-directory of `root`, sorted
   * alphabetically (by code unit), like Keras `image_dataset_from_directory`.
   */
  classNames?: readonly string[];
  /** File system to read through. Default: node:fs/promises. */
  fs?: DataFs;
  /** Files read at once through an injected `fs`. Default 32. (The default fs reads synchronously, one at a time, yielding every 64 files.) */
  concurrency?: number;
  /**
   * Largest image file read, in bytes (default {@link MAX_IMAGE_FILE_BYTES}, 256 MiB). A larger
   * file is refused with `READ_FAILED` before it is read, as is anything that is not a regular
   * file (a FIFO, a device such as a symlink to /dev/zero, a socket).
   */
  maxFileBytes?: number;
}

/**
 * The default `maxFileBytes` of {@link loadImageFolder}: 256 MiB, above any real PNG or JPEG of
 * the 200-megapixel images it decodes, so a hostile folder cannot make it read without bound.
 *
 * @example
 * ```ts
 * import { MAX_IMAGE_FILE_BYTES } from '@mlship/data';
 * console.log(MAX_IMAGE_FILE_BYTES / 2 ** 20); // 256
 * ```
 */
export const MAX_IMAGE_FILE_BYTES = 256 * 2 ** 20;

const LOAD_IMAGE_FOLDER_KEYS = [
  'height',
  'width',
  'channels',
  'onError',
  'classNames',
  'fs',
  'concurrency',
  'maxFileBytes',
] as const satisfies readonly (keyof LoadImageFolderOptions)[];

/** A file that `onError: 'skip'` left out, and why. */
export interface SkippedFile {
  path: string;
  reason: string;
}

/** The dataset of {@link loadImageFolder}, plus where each image came from and what was skipped. */
export interface ImageFolderDataset extends ImageDataset {
  images: Uint8Array;
  /** Path of image i (same order as `labels`). */
  files: string[];
  /** Files left out with `onError: 'skip'` (always empty with `'fail'`). */
  skipped: SkippedFile[];
}

/** Same bound jpeg-js applied before (200 MP): folders of photos keep loading as they did. */
const MAX_FOLDER_PIXELS = 200_000_000;

const IMAGE_EXT = /\.(png|jpe?g)$/i;

async function isDirectory(fs: DataFs, path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isDirectory();
  } catch (e) {
    throw fsError(e, path, 'directory');
  }
}

async function listImages(fs: DataFs, dir: string, out: string[]): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    throw fsError(e, dir, 'directory');
  }
  names.sort();
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    // Image names are taken as files without a stat (fast for large folders); a directory named
    // like an image then fails to read and is reported like any unreadable file.
    if (IMAGE_EXT.test(name)) out.push(path);
    else if (await isDirectory(fs, path)) await listImages(fs, path, out);
  }
}

function checkDim(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 16384) {
    throw new DataError(
      'INVALID_OPTION',
      `loadImageFolder: ${what} ${String(v)} is not valid (expected an integer 1..16384)`,
      {
        data: { expected: '1..16384', actual: v },
      },
    );
  }
  return v;
}

/**
 * Loads `<root>/<class>/<file>.{png,jpg,jpeg}` (Keras `image_dataset_from_directory` layout:
 * classes are the sub-directories sorted alphabetically unless `classNames` is given, files sorted
 * by name, nested folders walked) into a Uint8 dataset `[n, height, width, channels]`, in class
 * then file order (shuffle it with a seed). Images are decoded with pngjs / jpeg-js, converted to
 * the channel count (luma for 1) and resized (antialiased bilinear, see README). Hidden files and
 * other extensions are ignored. Only regular files of at most `maxFileBytes` are read (a FIFO or
 * a symlink to a device is refused, never waited on or read without bound). An unreadable or
 * undecodable file is never dropped silently: `onError: 'fail'` throws, `'skip'` reports it in
 * `skipped`.
 *
 * @param root - the directory holding one sub-directory per class
 * @param options - output size, channels, error policy, class names, fs, concurrency
 * @returns the dataset with `files` and `skipped`
 * @throws DataError `FILE_NOT_FOUND` (root or a named class directory), `INVALID_OPTION`,
 *   `EMPTY_DATASET` (no class directories or no image files), `DECODE_FAILED` / `READ_FAILED`
 *   naming the file (with `onError: 'fail'`; `READ_FAILED` also for a file that is not a regular
 *   file or is larger than `maxFileBytes`, `data.reason` `'not-regular'` / `'too-large'`)
 * @example
 * ```ts
 * const ds = await loadImageFolder('photos', { height: 64, width: 64, channels: 3, onError: 'skip' });
 * for (const s of ds.skipped) console.warn(`skipped ${s.path}: ${s.reason}`);
 * ```
 */
export async function loadImageFolder(
  root: string,
  options: LoadImageFolderOptions,
): Promise<ImageFolderDataset> {
  checkDataOptions(options, LOAD_IMAGE_FOLDER_KEYS, 'loadImageFolder options');
  const fs = options.fs ?? nodeDataFs;
  const height = checkDim(options.height, 'height');
  const width = checkDim(options.width, 'width');
  const channels = options.channels;
  if (channels !== 1 && channels !== 3) {
    throw new DataError(
      'INVALID_OPTION',
      `loadImageFolder: channels ${String(channels)} is not valid (expected 1 or 3)`,
      {
        data: { expected: [1, 3], actual: channels },
      },
    );
  }
  const onError = options.onError ?? 'fail';
  if (onError !== 'skip' && onError !== 'fail') {
    throw new DataError(
      'INVALID_OPTION',
      `loadImageFolder: onError ${JSON.stringify(onError)} is not valid (expected 'skip' or 'fail')`,
      {
        data: { expected: ['skip', 'fail'], actual: onError },
      },
    );
  }
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 32));
  const maxFileBytes = options.maxFileBytes ?? MAX_IMAGE_FILE_BYTES;
  if (typeof maxFileBytes !== 'number' || !Number.isSafeInteger(maxFileBytes) || maxFileBytes < 1) {
    throw new DataError(
      'INVALID_OPTION',
      `loadImageFolder: maxFileBytes ${String(maxFileBytes)} is not valid (expected a positive integer)`,
      { data: { path: 'maxFileBytes', expected: 'positive integer', actual: maxFileBytes } },
    );
  }
  if (!(await isDirectory(fs, root))) {
    throw new DataError(
      'FILE_NOT_FOUND',
      `loadImageFolder: ${root} is not a directory (expected <root>/<class>/<image>)`,
      { data: { path: root } },
    );
  }
  let classNames: string[];
  if (options.classNames !== undefined) {
    classNames = [...options.classNames];
    for (const name of classNames) {
      const dir = join(root, name);
      let ok = false;
      try {
        ok = (await fs.stat(dir)).isDirectory();
      } catch {
        ok = false;
      }
      if (!ok) {
        throw new DataError(
          'FILE_NOT_FOUND',
          `loadImageFolder: class directory ${dir} not found (classNames lists ${JSON.stringify(name)})`,
          {
            data: { path: dir, expected: 'directory' },
          },
        );
      }
    }
  } else {
    let names: string[];
    try {
      names = await fs.readdir(root);
    } catch (e) {
      throw fsError(e, root, 'directory');
    }
    classNames = [];
    for (const name of names.sort()) {
      if (!name.startsWith('.') && (await isDirectory(fs, join(root, name)))) classNames.push(name);
    }
  }
  if (classNames.length === 0) {
    throw new DataError(
      'EMPTY_DATASET',
      `loadImageFolder: ${root} has no class sub-directories (expected <root>/<class>/<image>)`,
      { data: { path: root } },
    );
  }
  const files: string[] = [];
  const fileLabels: number[] = [];
  for (const [label, name] of classNames.entries()) {
    const found: string[] = [];
    await listImages(fs, join(root, name), found);
    for (const f of found) {
      files.push(f);
      fileLabels.push(label);
    }
  }
  if (files.length === 0) {
    throw new DataError(
      'EMPTY_DATASET',
      `loadImageFolder: no .png/.jpg/.jpeg files under ${root} (classes ${JSON.stringify(classNames)})`,
      {
        data: { path: root },
      },
    );
  }
  const size = height * width * channels;
  const images = new Uint8Array(files.length * size);
  const ok = new Uint8Array(files.length);
  const failures = new Array<SkippedFile | undefined>(files.length);
  let firstFatal: DataError | undefined;
  let next = 0;
  // With the default fs, small image files are read synchronously (one syscall sequence, no
  // thread-pool round trips: several times faster on folders of small files), yielding to the
  // event loop every 64 files so timers and I/O of the host application keep running.
  const syncRead = options.fs === undefined;
  let sinceYield = 0;
  const worker = async (): Promise<void> => {
    while (firstFatal === undefined) {
      const i = next++;
      if (i >= files.length) return;
      const path = files[i] as string;
      let bytes: Uint8Array;
      try {
        if (syncRead) {
          bytes = readRegularFileSync(path, 'image file', maxFileBytes);
          if (++sinceYield >= 64) {
            sinceYield = 0;
            await yieldToEventLoop();
          }
        } else {
          bytes = await readRegularFile(fs, path, 'image file', maxFileBytes);
        }
      } catch (e) {
        const err = e instanceof DataError ? e : fsError(e, path, 'image file');
        if (onError === 'fail') firstFatal ??= err;
        failures[i] = { path, reason: err.message };
        continue;
      }
      try {
        const img = decodeRgba(bytes, MAX_FOLDER_PIXELS, path);
        if (img.width < 1 || img.height < 1)
          throw new Error(`decoded size ${img.width}x${img.height}`);
        rgbaToResized(img.rgba, img.width, img.height, channels, height, width, images, i * size);
        ok[i] = 1;
      } catch (e) {
        const reason = describeError(e);
        if (onError === 'fail') {
          firstFatal ??= new DataError(
            'DECODE_FAILED',
            `loadImageFolder: cannot decode ${path}: ${reason}`,
            { cause: e, data: { path } },
          );
        }
        failures[i] = { path, reason: `cannot decode: ${reason}` };
      }
    }
  };
  await Promise.all(
    Array.from({ length: syncRead ? 1 : Math.min(concurrency, files.length) }, worker),
  );
  if (firstFatal !== undefined) throw firstFatal;
  const skipped = failures.filter((f): f is SkippedFile => f !== undefined);
  const n = files.length - skipped.length;
  let outImages = images;
  const labels = new Int32Array(n);
  const keptFiles: string[] = [];
  if (skipped.length === 0) {
    for (let i = 0; i < n; i++) labels[i] = fileLabels[i] as number;
    keptFiles.push(...files);
  } else {
    outImages = new Uint8Array(n * size);
    let j = 0;
    for (let i = 0; i < files.length; i++) {
      if (!ok[i]) continue;
      outImages.set(images.subarray(i * size, (i + 1) * size), j * size);
      labels[j] = fileLabels[i] as number;
      keptFiles.push(files[i] as string);
      j++;
    }
  }
  return {
    images: outImages,
    shape: [n, height, width, channels],
    labels,
    classNames,
    files: keptFiles,
    skipped,
  };
}
