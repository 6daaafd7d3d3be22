/**
 * Every way an @mlship/model call can fail, as a stable machine-readable code.
 *
 * - `INVALID_SPEC`: a {@link ModelSpec} failed validation (the message names the field path).
 * - `INVALID_OPTION`: an options object passed to a function is wrong (the message names the option).
 * - `INVALID_DATA`: a dataset does not fit the model (shape, labels, class count, empty).
 * - `TRAINING_ABORTED`: the `signal` passed to {@link train} was aborted; `data.history` holds the
 *   epochs that completed and `data.checkpointDir` the last good checkpoint, if any.
 * - `TRAINING_DIVERGED`: the loss became NaN or infinite.
 * - `NOT_A_MODEL_DIR`: the directory does not exist or has no `mlship.json` / `model.json`.
 * - `INVALID_META`: `mlship.json` is not valid JSON or not format `mlship-model/1`.
 * - `INTEGRITY`: a file of the model directory is missing, has extra or wrong bytes (sha256 or size
 *   mismatch), or is not listed in `mlship.json` (`data.path` names the file).
 * - `SAVE_FAILED`: writing the model directory failed.
 * - `LOAD_FAILED`: TensorFlow.js could not rebuild the model from a verified directory.
 */
export type ModelErrorCode =
  | 'INVALID_SPEC'
  | 'INVALID_OPTION'
  | 'INVALID_DATA'
  | 'TRAINING_ABORTED'
  | 'TRAINING_DIVERGED'
  | 'NOT_A_MODEL_DIR'
  | 'INVALID_META'
  | 'INTEGRITY'
  | 'SAVE_FAILED'
  | 'LOAD_FAILED';

/** Extra, machine-readable details a {@link ModelError} may carry. */
export interface ModelErrorData {
  /** The field path (`layers[2].filters`) or file path (`model.json`) the error is about. */
  path?: string;
  /** Anything else worth keeping (history of an aborted run, expected/actual hashes, ...). */
  [key: string]: unknown;
}

/**
 * The one error class of @mlship/model.
 *
 * @example
 * ```ts
 * try { validateSpec(spec); } catch (e) { if (isModelError(e) && e.code === 'INVALID_SPEC') console.error(e.message); }
 * ```
 */
export class ModelError extends Error {
  /** What went wrong, stable across releases. */
  readonly code: ModelErrorCode;
  /** Optional details (`path` of the bad field or file, ...). */
  readonly data: ModelErrorData | undefined;

  /**
   * @param code - the {@link ModelErrorCode}
   * @param message - names the bad value and what was expected
   * @param options - `cause` (the underlying error) and `data`
   */
  constructor(
    code: ModelErrorCode,
    message: string,
    options: { cause?: unknown; data?: ModelErrorData } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ModelError';
    this.code = code;
    this.data = options.data;
  }

  /**
   * A JSON-friendly view of the error.
   *
   * @returns name, code, message, data and the cause's message
   */
  toJSON(): {
    name: string;
    code: ModelErrorCode;
    message: string;
    data?: ModelErrorData;
    cause?: string;
  } {
    const out: {
      name: string;
      code: ModelErrorCode;
      message: string;
      data?: ModelErrorData;
      cause?: string;
    } = {
      name: this.name,
      code: this.code,
      message: this.message,
    };
    if (this.data !== undefined) out.data = this.data;
    if (this.cause !== undefined)
      out.cause = this.cause instanceof Error ? this.cause.message : String(this.cause);
    return out;
  }
}

/**
 * Whether `value` is a {@link ModelError} (works across duplicated package copies by checking `name` and `code`).
 *
 * @param value - anything caught
 * @returns true when `value` is a ModelError
 * @throws never
 * @example
 * ```ts
 * if (isModelError(e) && e.code === 'INTEGRITY') console.error(`tampered file: ${e.data?.path}`);
 * ```
 */
export function isModelError(value: unknown): value is ModelError {
  return (
    value instanceof ModelError ||
    (value instanceof Error &&
      value.name === 'ModelError' &&
      typeof (value as { code?: unknown }).code === 'string')
  );
}
