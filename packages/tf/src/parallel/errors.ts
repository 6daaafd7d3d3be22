import { TfError, type TfErrorData } from '../errors';
import type { WireError } from './protocol';

/**
 * Codes of the errors the parallel runtime adds to {@link TfError}:
 * - `WORKER_FAILED`: a worker threw while running a request (the cause is the worker's error);
 * - `WORKER_EXITED`: a worker exited or crashed before answering (pending requests fail with it);
 * - `POOL_DISPOSED`: the pool or trainer was used after `dispose()`.
 */
export type ParallelErrorCode = 'WORKER_FAILED' | 'WORKER_EXITED' | 'POOL_DISPOSED';

/** @internal A {@link TfError} with a parallel-runtime code. */
export function parallelError(
  code: ParallelErrorCode,
  message: string,
  options: { cause?: unknown; data?: TfErrorData } = {},
): TfError {
  return new TfError(code, message, options);
}

/** @internal An Error rebuilt from what a worker sent back (message, name and stack kept). */
export function remoteError(err: WireError): Error {
  const e = new Error(err.message);
  if (err.name !== undefined) e.name = err.name;
  if (err.stack !== undefined) e.stack = err.stack;
  return e;
}
