import { MlshipError, errorGuard } from '@mlship/core';
import type { IntegrityReason, MlshipErrorData, MlshipErrorOptions } from '@mlship/core';

/**
 * Every way an `@mlship/tf` call can fail, as stable machine-readable codes: the shared codes of
 * `@mlship/core` that tf uses (`INVALID_OPTION`, `NOT_A_MODEL_DIR`, `INTEGRITY`, `READ_FAILED`)
 * and tf's own.
 *
 * - `BACKEND_UNAVAILABLE`: an explicitly requested backend is not installed or does not load.
 * - `BACKEND_INIT_FAILED`: TensorFlow.js could not initialise a backend.
 * - `INVALID_OPTION`: a bad argument or option value, or an unknown option key.
 * - `NOT_A_MODEL_DIR`: the model directory or its `model.json` does not exist.
 * - `INTEGRITY`: a weight file is missing, unreadable, or not the size its manifest requires
 *   (`data.reason` `'missing' | 'unreadable' | 'size'`, `data.path` the file).
 * - `READ_FAILED`: `model.json` exists but cannot be read.
 * - `MODEL_JSON_INVALID`: `model.json` is not JSON, not a layers-model, or its topology cannot be built.
 * - `WEIGHTS_MISMATCH`: manifest shapes or names disagree with what the topology builds.
 * - `SAVE_FAILED`: saving a model directory failed.
 * - `WORKER_FAILED`, `WORKER_EXITED`, `POOL_DISPOSED`: the parallel runtime's workers.
 * - `GRADIENTS_NOT_FINITE`: a parallel training step produced NaN/infinite gradients (not applied).
 *
 * @example
 * ```ts
 * import { TF_ERROR_CODES } from '@mlship/tf';
 * console.log(TF_ERROR_CODES.includes('INTEGRITY')); // true
 * ```
 */
export const TF_ERROR_CODES = [
  'BACKEND_UNAVAILABLE',
  'BACKEND_INIT_FAILED',
  'INVALID_OPTION',
  'NOT_A_MODEL_DIR',
  'INTEGRITY',
  'READ_FAILED',
  'MODEL_JSON_INVALID',
  'WEIGHTS_MISMATCH',
  'SAVE_FAILED',
  'WORKER_FAILED',
  'WORKER_EXITED',
  'POOL_DISPOSED',
  'GRADIENTS_NOT_FINITE',
] as const;

/** One of {@link TF_ERROR_CODES}. */
export type TfErrorCode = (typeof TF_ERROR_CODES)[number];

/** Structured details attached to a {@link TfError}: the file or backend involved, expected vs actual. */
export interface TfErrorData extends MlshipErrorData {
  /** The file or directory the error is about (absolute or as given), or the option key. */
  path?: string;
  /** The backend the error is about. */
  backend?: string;
  /** What was expected (a size in bytes, a shape, a format name...). */
  expected?: unknown;
  /** What was found instead. */
  actual?: unknown;
  /** Why an `INTEGRITY` error was raised. */
  reason?: IntegrityReason;
}

/** Options of the {@link TfError} constructor: `cause` and `data`. */
export type TfErrorOptions = MlshipErrorOptions<TfErrorData>;

/**
 * The one error class of `@mlship/tf` (an `MlshipError` of `@mlship/core`). `code` says what went
 * wrong, the message says which value was bad and what was expected, `data` carries the same facts
 * for programs, `toJSON()` keeps the cause chain.
 *
 * @example
 * ```ts
 * import { TfError, isTfError, loadLayersModel } from '@mlship/tf';
 * try {
 *   await loadLayersModel('./no-such-model');
 * } catch (e) {
 *   if (isTfError(e) && e.code === 'NOT_A_MODEL_DIR') console.error(e.data?.path);
 * }
 * ```
 */
export class TfError extends MlshipError<TfErrorCode, TfErrorData> {
  override name = 'TfError';
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
export const isTfError: (value: unknown) => value is TfError = errorGuard('TfError', TfError);

/** @internal A short one-line description of an unknown thrown value. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0] ?? e.message;
  return String(e);
}
