/** Every way an `@mlship/tf` call can fail, as a stable machine-readable code. */
export type TfErrorCode =
  | 'BACKEND_UNAVAILABLE'
  | 'BACKEND_INIT_FAILED'
  | 'INVALID_OPTION'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_FILE_MISSING'
  | 'MODEL_JSON_INVALID'
  | 'WEIGHTS_TRUNCATED'
  | 'WEIGHTS_MISMATCH'
  | 'SAVE_FAILED'
  | 'WORKER_FAILED'
  | 'WORKER_EXITED'
  | 'POOL_DISPOSED'
  | 'GRADIENTS_NOT_FINITE';

/** Structured details attached to a {@link TfError}: the file or backend involved, expected vs actual. */
export interface TfErrorData {
  /** The file or directory the error is about (absolute or as given). */
  path?: string;
  /** The backend the error is about. */
  backend?: string;
  /** What was expected (a size in bytes, a shape, a format name...). */
  expected?: unknown;
  /** What was found instead. */
  actual?: unknown;
  [key: string]: unknown;
}

/** Options of the {@link TfError} constructor. */
export interface TfErrorOptions {
  /** The underlying error, kept as `error.cause`. */
  cause?: unknown;
  /** Structured details, kept as `error.data`. */
  data?: TfErrorData;
}

/**
 * The one error class of `@mlship/tf`. `code` says what went wrong, the message says which value
 * was bad and what was expected, `data` carries the same facts for programs.
 *
 * @example
 * ```ts
 * try {
 *   await loadLayersModel('./models/cnn');
 * } catch (e) {
 *   if (isTfError(e) && e.code === 'MODEL_NOT_FOUND') console.error(e.data?.path);
 * }
 * ```
 */
export class TfError extends Error {
  /** What went wrong, stable across versions. */
  readonly code: TfErrorCode;
  /** Structured details (path, expected, actual...). */
  readonly data: TfErrorData | undefined;

  /**
   * @param code - the error code.
   * @param message - a sentence naming the bad value and what was expected.
   * @param options - `cause` and `data`.
   */
  constructor(code: TfErrorCode, message: string, options: TfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TfError';
    this.code = code;
    this.data = options.data;
  }

  /**
   * A plain-object form for logs and JSON error bodies.
   *
   * @returns `{ name, code, message, data, cause }` (cause as its message when it is an Error).
   */
  toJSON(): {
    name: string;
    code: TfErrorCode;
    message: string;
    data?: TfErrorData;
    cause?: unknown;
  } {
    const cause = this.cause instanceof Error ? this.cause.message : this.cause;
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.data === undefined ? {} : { data: this.data }),
      ...(cause === undefined ? {} : { cause }),
    };
  }
}

/**
 * Tells whether a value is a {@link TfError} (also across duplicated copies of this package).
 *
 * @param value - anything caught.
 * @returns true when `value` is a TfError.
 * @throws never.
 * @example
 * ```ts
 * if (isTfError(e)) console.error(e.code);
 * ```
 */
export function isTfError(value: unknown): value is TfError {
  return (
    value instanceof TfError ||
    (value instanceof Error &&
      value.name === 'TfError' &&
      typeof (value as { code?: unknown }).code === 'string')
  );
}

/** @internal A short one-line description of an unknown thrown value. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0] ?? e.message;
  return String(e);
}
