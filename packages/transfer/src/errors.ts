import type { MlshipErrorData, MlshipErrorOptions } from '@mlship/core';
import { MlshipError, asPackageError, checkOptions, errorGuard } from '@mlship/core';

/**
 * Every code a @mlship/transfer call can fail with: the shared codes of @mlship/core it uses, the
 * @mlship/model codes that pass through it, and its own.
 *
 * - `INVALID_OPTION`: a bad argument or option, or an unknown option key (`data.path`).
 * - `INVALID_STRATEGY`: a strategy is malformed (unknown `kind`, a bad or unknown field), or its
 *   layer selection names no layer of the base model (`data.path` = the field, e.g.
 *   `strategies[2].layers.name[0]`; `data.layer` = the layer name when one was named).
 * - `INCOMPATIBLE_DATA`: the target data does not fit the base model (input shape, or a class count
 *   that differs from the model's outputs without `replaceHead`).
 * - `NOT_A_MODEL_DIR`, `INVALID_META`, `INTEGRITY`: the base model directory (from @mlship/model).
 * - `READ_FAILED` / `WRITE_FAILED`: reading or writing experiment files failed.
 * - `ABORTED`: the caller's `signal` aborted a run; an aborted run leaves no result file.
 * - `TRAINING_DIVERGED`, `INVALID_DATA`, `LOAD_FAILED`, `SAVE_FAILED`: from @mlship/model's training,
 *   data checks and model directory IO, same meaning.
 * - `REPORT_FAILED`: rendering a chart failed.
 */
export type TransferErrorCode =
  | 'INVALID_OPTION'
  | 'INVALID_STRATEGY'
  | 'INCOMPATIBLE_DATA'
  | 'NOT_A_MODEL_DIR'
  | 'INVALID_META'
  | 'INTEGRITY'
  | 'READ_FAILED'
  | 'WRITE_FAILED'
  | 'ABORTED'
  | 'TRAINING_DIVERGED'
  | 'INVALID_DATA'
  | 'LOAD_FAILED'
  | 'SAVE_FAILED'
  | 'REPORT_FAILED';

/**
 * Every {@link TransferErrorCode}, for exhaustive handling and documentation checks.
 *
 * @example
 * ```ts
 * TRANSFER_ERROR_CODES.includes('INVALID_STRATEGY'); // true
 * ```
 */
export const TRANSFER_ERROR_CODES: readonly TransferErrorCode[] = [
  'INVALID_OPTION',
  'INVALID_STRATEGY',
  'INCOMPATIBLE_DATA',
  'NOT_A_MODEL_DIR',
  'INVALID_META',
  'INTEGRITY',
  'READ_FAILED',
  'WRITE_FAILED',
  'ABORTED',
  'TRAINING_DIVERGED',
  'INVALID_DATA',
  'LOAD_FAILED',
  'SAVE_FAILED',
  'REPORT_FAILED',
];

/** Structured context of a {@link TransferError}: `path` names the field or file. */
export interface TransferErrorData extends MlshipErrorData {
  /** The layer a selection named, when the error is about one. */
  layer?: string;
}

/**
 * The one error class of @mlship/transfer (extends @mlship/core's `MlshipError`).
 *
 * @example
 * ```ts
 * try { validateStrategy({ kind: 'freeze', layers: { name: 'nope' } }); }
 * catch (e) { if (isTransferError(e)) console.error(e.code, e.data?.path); }
 * ```
 */
export class TransferError extends MlshipError<TransferErrorCode, TransferErrorData> {
  override name = 'TransferError';

  /**
   * @param code - the {@link TransferErrorCode}
   * @param message - names the bad value and what was expected
   * @param options - `cause` and `data`
   */
  constructor(
    code: TransferErrorCode,
    message: string,
    options: MlshipErrorOptions<TransferErrorData> = {},
  ) {
    super(code, message, options);
  }
}

/**
 * Whether `e` is a {@link TransferError} (also for a copy from another install of the package).
 *
 * @param e - anything caught
 * @returns true for a TransferError
 * @throws never
 * @example
 * ```ts
 * if (isTransferError(e) && e.code === 'ABORTED') console.log('stopped; run again to resume');
 * ```
 */
export const isTransferError: (e: unknown) => e is TransferError = errorGuard(
  'TransferError',
  TransferError,
);

const PASSED_THROUGH = new Set<string>(TRANSFER_ERROR_CODES);

/**
 * Re-expresses an error from @mlship/model, core, data or tf as a {@link TransferError}: the same
 * code, message, data and cause when the code is one of ours (`TRAINING_ABORTED` becomes `ABORTED`,
 * data's `INVALID_ARGUMENT` and model's `INVALID_SPEC` become `INVALID_OPTION`); any other error
 * gets `fallback` with the original code in `data.code` and the original as `cause`.
 *
 * @internal
 */
export function asTransferError(
  e: unknown,
  fallback: TransferErrorCode,
  what: string,
): TransferError {
  if (e instanceof TransferError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (e instanceof Error && typeof code === 'string') {
    const data = (e as { data?: unknown }).data;
    const kept: TransferErrorData = {
      ...(typeof data === 'object' && data !== null ? (data as TransferErrorData) : {}),
    };
    const mapped =
      code === 'TRAINING_ABORTED'
        ? 'ABORTED'
        : code === 'INVALID_ARGUMENT' || code === 'INVALID_SPEC'
          ? 'INVALID_OPTION'
          : PASSED_THROUGH.has(code)
            ? (code as TransferErrorCode)
            : undefined;
    if (mapped !== undefined) return new TransferError(mapped, e.message, { cause: e, data: kept });
    return new TransferError(fallback, `${what}: ${e.message}`, {
      cause: e,
      data: { ...kept, code },
    });
  }
  return asPackageError(e, TransferError, { code: fallback, message: what });
}

/** An `INVALID_OPTION` error naming the option path. @internal */
export function optionError(path: string, expected: string, got: unknown): TransferError {
  return new TransferError('INVALID_OPTION', `${path}: expected ${expected}, got ${show(got)}`, {
    data: { path },
  });
}

/** A short JSON rendering of a bad value for messages. @internal */
export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol' || typeof value === 'bigint') return value.toString();
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    text = 'an unserialisable value'; // a cycle
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * @mlship/core's `checkOptions` throwing a {@link TransferError}: rejects an options object with a
 * key the function does not read, naming it (and the nearest accepted key).
 *
 * @internal
 */
export function checkKeys(options: unknown, accepted: readonly string[], where: string): void {
  checkOptions(options, accepted, where, TransferError);
}
