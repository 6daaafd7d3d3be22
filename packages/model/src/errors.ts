import { MlshipError, asPackageError, errorGuard } from '@mlship/core';
import type { MlshipErrorData } from '@mlship/core';

/**
 * Every way an @mlship/model call can fail, as a stable machine-readable code. The codes shared with
 * every mlship package (see @mlship/core's `SHARED_ERROR_CODES`) mean the same thing here:
 *
 * - `INVALID_OPTION`: an argument or option is wrong, or an options object has a key the function
 *   does not accept (the message names the option and, for an unknown key, the accepted ones).
 * - `INVALID_NAME`: a model name (`meta.name` of {@link saveModelDir}) is outside the name grammar.
 * - `NOT_A_MODEL_DIR`: the directory does not exist or has no `mlship.json` / `model.json`.
 * - `INVALID_META`: `mlship.json` is not valid JSON or not format `mlship-model/1`.
 * - `INTEGRITY`: a file of the model directory is missing, has extra or wrong bytes (sha256 or size
 *   mismatch), is not listed in `mlship.json`, or is not a regular file (`data.path` names the file,
 *   `data.reason` says which).
 * - `READ_FAILED`: the file system failed while reading a model directory.
 *
 * and the package's own:
 *
 * - `INVALID_SPEC`: a {@link ModelSpec} failed validation (the message names the field path).
 * - `INVALID_DATA`: a dataset does not fit the model (shape, labels, class count, empty).
 * - `TRAINING_ABORTED`: the `signal` passed to {@link train} was aborted; `data.history` holds the
 *   epochs that completed and `data.checkpointDir` the last good checkpoint, if any.
 * - `TRAINING_DIVERGED`: the loss became NaN or infinite.
 * - `SAVE_FAILED`: writing the model directory failed.
 * - `LOAD_FAILED`: TensorFlow.js could not rebuild the model from a verified directory.
 * - `BACKEND_UNAVAILABLE`: no fast TensorFlow.js backend could be made ready (only the pure-JS `cpu`
 *   backend, which was not asked for); `BACKEND_INIT_FAILED`: the requested backend failed to start.
 *
 * @example
 * ```ts
 * import { MODEL_ERROR_CODES } from '@mlship/model';
 * console.log(MODEL_ERROR_CODES.includes('INVALID_SPEC')); // true
 * ```
 */
export const MODEL_ERROR_CODES = [
  'INVALID_OPTION',
  'INVALID_NAME',
  'NOT_A_MODEL_DIR',
  'INVALID_META',
  'INTEGRITY',
  'READ_FAILED',
  'INVALID_SPEC',
  'INVALID_DATA',
  'TRAINING_ABORTED',
  'TRAINING_DIVERGED',
  'SAVE_FAILED',
  'LOAD_FAILED',
  'BACKEND_UNAVAILABLE',
  'BACKEND_INIT_FAILED',
] as const;

/** One of {@link MODEL_ERROR_CODES}. */
export type ModelErrorCode = (typeof MODEL_ERROR_CODES)[number];

/** Extra, machine-readable details a {@link ModelError} may carry. */
export interface ModelErrorData extends MlshipErrorData {
  /** The field path (`layers[2].filters`), option (`epochs`) or file path (`model.json`) the error is about. */
  path?: string;
}

/**
 * The one error class of @mlship/model (an `MlshipError` of @mlship/core: `code`, `data`, `cause`,
 * and `toJSON()` keeping the cause chain).
 *
 * @example
 * ```ts
 * import { ModelError, isModelError, validateSpec } from '@mlship/model';
 * try {
 *   validateSpec({ name: 'x' });
 * } catch (e) {
 *   if (isModelError(e) && e.code === 'INVALID_SPEC') console.log(e.message, e instanceof ModelError);
 * }
 * ```
 */
export class ModelError extends MlshipError<ModelErrorCode, ModelErrorData> {
  override name = 'ModelError';
}

/**
 * Whether `value` is a {@link ModelError} (also across duplicated package copies, by `name` and `code`).
 *
 * @param value - anything caught
 * @returns true when `value` is a ModelError
 * @throws never
 * @example
 * ```ts
 * import { isModelError, loadModelDir } from '@mlship/model';
 * await loadModelDir('./no-such-model').catch((e: unknown) => {
 *   if (isModelError(e)) console.log(e.code); // NOT_A_MODEL_DIR
 * });
 * ```
 */
export const isModelError: (value: unknown) => value is ModelError = errorGuard(
  'ModelError',
  ModelError,
);

/**
 * Re-expresses what a dependency threw as a {@link ModelError}: an mlship error (a `CoreError` from
 * a core check, say) keeps its code, message, data and cause; anything else becomes `fallback.code`
 * with the original as `cause`.
 *
 * @internal
 */
export function asModelError(
  e: unknown,
  fallback: { code: ModelErrorCode; message: string },
): ModelError {
  return asPackageError(e, ModelError, fallback);
}
