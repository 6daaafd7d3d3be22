/**
 * A labelled image dataset as plain typed arrays: no tensors, no copies you did not ask for.
 *
 * - `images`: NHWC, row-major, length `n*h*w*c`. Uint8 images hold raw pixels 0..255; Float32
 *   images are already scaled (0..1 unless documented otherwise).
 * - `labels`: length `n`, values in `[0, classNames.length)`.
 *
 * @example
 * ```ts
 * const ds: ImageDataset = {
 *   images: new Uint8Array(2 * 28 * 28),
 *   shape: [2, 28, 28, 1],
 *   labels: Int32Array.of(3, 7),
 *   classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
 * };
 * ```
 */
export interface ImageDataset {
  /** Pixels, NHWC row-major, length n*h*w*c. */
  images: Uint8Array | Float32Array;
  /** `[n, h, w, c]`. */
  shape: readonly [n: number, h: number, w: number, c: number];
  /** Class index of each image, length n. */
  labels: Int32Array;
  /** Name of each class; `labels` index into it. */
  classNames: readonly string[];
}

/** A `stat` result as far as @mlship/data needs it. */
export interface DataFsStats {
  /** Whether the path is a directory. */
  isDirectory(): boolean;
  /** Whether the path is a regular file (not a FIFO, device, socket or directory). */
  isFile(): boolean;
  /** Size in bytes; when given, loaders with a size cap refuse a file over it before reading. */
  size?: number;
}

/**
 * The file-system capability the loaders read through. `node:fs/promises` satisfies it (and is the
 * default); tests or browsers can pass anything with these three methods.
 *
 * @example
 * ```ts
 * import * as fs from 'node:fs/promises';
 * const ds = await loadMnist({ split: 'test', fs });
 * ```
 */
export interface DataFs {
  /** Reads a whole file. */
  readFile(path: string): Promise<Uint8Array>;
  /** Lists the entry names of a directory. */
  readdir(path: string): Promise<string[]>;
  /** Describes a path (follows symlinks). */
  stat(path: string): Promise<DataFsStats>;
}
