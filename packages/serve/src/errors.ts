import {
  MlshipError,
  SHARED_ERROR_CODES,
  errorGuard,
  isMlshipError,
  describeError,
} from '@mlship/core';
import type { MlshipErrorData, SharedErrorCode } from '@mlship/core';

/**
 * Every way an @mlship/serve call can fail: the shared codes of @mlship/core plus
 *
 * - `LOAD_FAILED`: a model version could not be resolved, checked out or loaded (the cause says why).
 * - `WARMUP_FAILED`: a version loaded but its warm-up inference failed or gave non-finite or
 *   wrongly shaped outputs, so it was never served.
 * - `LISTEN_FAILED`: the HTTP server could not listen on the host and port.
 * - `NOT_RUNNING`: `start()` after `stop()`, or `start()` twice.
 * - `BAD_REQUEST` / `NOT_FOUND` / `PAYLOAD_TOO_LARGE`: a request's fault, answered 400 / 404 / 413.
 * - `OVERLOADED`: the batching queue is full or the request's deadline cannot be met, answered
 *   503 with `Retry-After` (`data.retryAfterSeconds`).
 */
export type ServeErrorCode =
  | SharedErrorCode
  | 'LOAD_FAILED'
  | 'WARMUP_FAILED'
  | 'LISTEN_FAILED'
  | 'NOT_RUNNING'
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'OVERLOADED';

/**
 * Every {@link ServeErrorCode}, for docs and exhaustive checks.
 *
 * @example
 * ```ts
 * import { SERVE_ERROR_CODES } from '@mlship/serve';
 * SERVE_ERROR_CODES.includes('OVERLOADED'); // true
 * ```
 */
export const SERVE_ERROR_CODES: readonly ServeErrorCode[] = [
  ...SHARED_ERROR_CODES,
  'LOAD_FAILED',
  'WARMUP_FAILED',
  'LISTEN_FAILED',
  'NOT_RUNNING',
  'BAD_REQUEST',
  'NOT_FOUND',
  'PAYLOAD_TOO_LARGE',
  'OVERLOADED',
];

/** Structured context of a {@link ServeError}. */
export interface ServeErrorData extends MlshipErrorData {
  /** The model concerned, when there is one. */
  model?: string;
  /** The version concerned, when there is one. */
  version?: number;
  /** For `OVERLOADED`: when to retry, in whole seconds (the `Retry-After` header). */
  retryAfterSeconds?: number;
}

/**
 * The one error class of @mlship/serve (extends @mlship/core's `MlshipError`). Request errors
 * are answered with the HTTP status of {@link httpStatusOf}.
 *
 * @example
 * ```ts
 * try { await createServer({ models: [{ name: 'cnn', source: './nope' }] }); }
 * catch (e) { if (isServeError(e)) console.error(e.code, e.message); } // NOT_A_MODEL_DIR ...
 * ```
 */
export class ServeError extends MlshipError<ServeErrorCode, ServeErrorData> {
  override name = 'ServeError';
}

/**
 * Type guard for {@link ServeError} (also across duplicated package copies).
 *
 * @param e - anything caught
 * @returns whether `e` is a ServeError
 * @throws never
 * @example
 * ```ts
 * if (isServeError(e) && e.code === 'OVERLOADED') retryLater(e.data?.retryAfterSeconds);
 * ```
 */
export const isServeError: (e: unknown) => e is ServeError = errorGuard('ServeError', ServeError);

const STATUS: Partial<Record<ServeErrorCode, number>> = {
  BAD_REQUEST: 400,
  INVALID_OPTION: 400,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  OVERLOADED: 503,
};

/**
 * The HTTP status a request error is answered with (400, 404, 413 or 503), or 500 for anything
 * that is not a request error.
 *
 * @param e - the error
 * @returns the status code
 * @throws never
 * @example
 * ```ts
 * httpStatusOf(new ServeError('NOT_FOUND', 'no model "x"')); // 404
 * ```
 */
export function httpStatusOf(e: ServeError): number {
  return STATUS[e.code] ?? 500;
}

/** @internal A request error answered 400. */
export function badRequest(message: string, path?: string): ServeError {
  return new ServeError('BAD_REQUEST', message, path === undefined ? {} : { data: { path } });
}

/** @internal A request error answered 404. */
export function notFound(message: string, data: ServeErrorData = {}): ServeError {
  return new ServeError('NOT_FOUND', message, { data });
}

/**
 * @internal Re-expresses a failure while loading a version: a shared-code error (integrity,
 * metadata, not a model directory...) keeps its code, anything else becomes `LOAD_FAILED`; the
 * message says which model and version.
 */
export function loadError(e: unknown, context: string, data: ServeErrorData): ServeError {
  if (isServeError(e)) return e;
  const message = `${context}: ${describeError(e)}`;
  if (isMlshipError(e) && (SHARED_ERROR_CODES as readonly string[]).includes(e.code)) {
    return new ServeError(e.code as SharedErrorCode, message, {
      cause: e,
      data: { ...(e.data ?? {}), ...data },
    });
  }
  const reason = isMlshipError(e) ? e.code : undefined;
  return new ServeError('LOAD_FAILED', message, {
    cause: e,
    data: { ...data, ...(reason === undefined ? {} : { reason }) },
  });
}
