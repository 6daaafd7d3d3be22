/**
 * Every code a {@link RegistryError} can carry. The first seven are the vocabulary every mlship
 * package shares (the same condition gets the same code everywhere); the rest are the registry's own.
 *
 * @example
 * ```ts
 * REGISTRY_ERROR_CODES.includes('INTEGRITY'); // true
 * ```
 */
export const REGISTRY_ERROR_CODES = [
  'INVALID_OPTION',
  'INVALID_NAME',
  'NOT_A_MODEL_DIR',
  'INVALID_META',
  'INTEGRITY',
  'READ_FAILED',
  'WRITE_FAILED',
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

/**
 * Why a file failed verification (`data.reason` of an `INTEGRITY` error): listed but absent, wrong
 * size, wrong sha256, present but not listed, not a regular file, a path leaving the directory, or
 * bytes that cannot be read (a corrupt git object).
 */
export type IntegrityReason =
  'missing' | 'size' | 'sha256' | 'unlisted' | 'not-regular' | 'unsafe-path' | 'unreadable';

/** Optional structured context attached to a {@link RegistryError}. */
export interface RegistryErrorData {
  /** A file or directory path involved in the failure. */
  path?: string;
  /** The model name, version ref, tag or git ref involved. */
  ref?: string;
  /** Anything else worth a machine reading. */
  [key: string]: unknown;
}

/**
 * The one error class of @mlship/registry. `code` says what went wrong, `data` carries the
 * offending path or ref, `cause` keeps the underlying error (an fs or isomorphic-git error).
 *
 * @example
 * ```ts
 * try { await registry.resolve('cnn@v9'); }
 * catch (e) { if (isRegistryError(e) && e.code === 'VERSION_NOT_FOUND') console.error(e.message); }
 * ```
 */
export class RegistryError extends Error {
  /** Stable machine-readable code. */
  readonly code: RegistryErrorCode;
  /** Structured context (path, ref, ...). */
  readonly data: RegistryErrorData | undefined;

  /**
   * @param code - what went wrong
   * @param message - names the bad value and what was expected
   * @param options - `cause` (the underlying error) and `data`
   */
  constructor(
    code: RegistryErrorCode,
    message: string,
    options: { cause?: unknown; data?: RegistryErrorData } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.data = options.data;
  }

  /**
   * A plain JSON form for logs and HTTP bodies.
   *
   * @returns name, code, message and data
   */
  toJSON(): { name: string; code: RegistryErrorCode; message: string; data?: RegistryErrorData } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.data === undefined ? {} : { data: this.data }),
    };
  }
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
export function isRegistryError(e: unknown): e is RegistryError {
  return (
    e instanceof RegistryError ||
    (typeof e === 'object' &&
      e !== null &&
      (e as { name?: unknown }).name === 'RegistryError' &&
      'code' in e)
  );
}
