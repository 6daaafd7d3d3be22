import {
  MlshipError,
  SHARED_ERROR_CODES,
  describeError,
  errorGuard,
  isMlshipError,
  type IntegrityReason,
  type MlshipErrorData,
} from '@mlship/core';

/**
 * Every code a {@link RegistryError} can carry: the vocabulary every mlship package shares (the
 * same condition gets the same code everywhere), then the registry's own.
 *
 * @example
 * ```ts
 * REGISTRY_ERROR_CODES.includes('INTEGRITY'); // true
 * ```
 */
export const REGISTRY_ERROR_CODES = [
  ...SHARED_ERROR_CODES,
  'INVALID_REF',
  'NOT_A_REPOSITORY',
  'MODEL_NOT_FOUND',
  'VERSION_NOT_FOUND',
  'STAGE_NOT_ASSIGNED',
  'DEST_EXISTS',
  'LOCK_TIMEOUT',
  'REF_CONFLICT',
  'REMOTE_FAILED',
  'REMOTE_AUTH_FAILED',
  'REMOTE_REJECTED',
  'DIVERGED',
] as const;

/** Every failure @mlship/registry reports, as a stable machine-readable code. */
export type RegistryErrorCode = (typeof REGISTRY_ERROR_CODES)[number];

export type { IntegrityReason };

/** Optional structured context attached to a {@link RegistryError}. */
export interface RegistryErrorData extends MlshipErrorData {
  /** A file or directory path involved in the failure (for `INTEGRITY`, relative to the model directory). */
  path?: string;
  /** The model name, version ref, tag or git ref involved. */
  ref?: string;
  /** For `INTEGRITY`: why the file failed verification. */
  reason?: IntegrityReason;
}

/**
 * The one error class of @mlship/registry. `code` says what went wrong, `data` carries the
 * offending path or ref, `cause` keeps the underlying error (an fs or isomorphic-git error);
 * `toJSON()` keeps the cause chain.
 *
 * @example
 * ```ts
 * try { await registry.resolve('cnn@v9'); }
 * catch (e) { if (isRegistryError(e) && e.code === 'VERSION_NOT_FOUND') console.error(e.message); }
 * ```
 */
export class RegistryError extends MlshipError<RegistryErrorCode, RegistryErrorData> {
  override name = 'RegistryError';
}

/**
 * Type guard for {@link RegistryError}, also true for errors from another copy of the package.
 *
 * @param e - anything caught
 * @returns whether `e` is a RegistryError
 * @throws never
 * @example
 * ```ts
 * if (isRegistryError(e) && e.code === 'INTEGRITY') console.error('tampered:', e.data?.path);
 * ```
 */
export const isRegistryError: (e: unknown) => e is RegistryError = errorGuard(
  'RegistryError',
  RegistryError,
);

/**
 * @internal Re-expresses anything caught as a RegistryError: a RegistryError as it is; an mlship
 * error of the shared vocabulary (a core check) with the same code, message, data and cause;
 * anything else (an fs error, an isomorphic-git error) as `fallback`'s code, its message prefixed
 * with what was being done, and the original as cause.
 */
export function toRegistryError(
  e: unknown,
  fallback: { code: RegistryErrorCode; message: string },
): RegistryError {
  if (isRegistryError(e)) return e;
  if (isMlshipError(e) && (REGISTRY_ERROR_CODES as readonly string[]).includes(e.code)) {
    return new RegistryError(e.code as RegistryErrorCode, e.message, {
      ...(e.cause === undefined ? {} : { cause: e.cause }),
      ...(e.data === undefined ? {} : { data: e.data }),
    });
  }
  const errno = (e as { code?: unknown } | null)?.code;
  return new RegistryError(fallback.code, `${fallback.message} failed: ${describeError(e)}`, {
    cause: e,
    ...(typeof errno === 'string' ? { data: { errno } } : {}),
  });
}

/**
 * @internal Wraps a public operation so that nothing but a RegistryError leaves it: whatever else
 * it throws becomes `code` (`READ_FAILED` for reads, `WRITE_FAILED` for writes) with a message
 * saying what was being done (`describe` of the same arguments).
 */
export function operation<A extends unknown[], R>(
  code: 'READ_FAILED' | 'WRITE_FAILED',
  fn: (...args: A) => Promise<R>,
  describe: NoInfer<(...args: A) => string>,
): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    try {
      return await fn(...args);
    } catch (e) {
      throw toRegistryError(e, { code, message: describe(...args) });
    }
  };
}
