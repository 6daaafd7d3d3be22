/**
 * The error codes every mlship package shares: the same condition gets the same code in every
 * package, so a caller can handle "a tampered file" or "a bad option" once.
 *
 * - `INVALID_OPTION`: an argument or option has a bad value, or an options object has a key the
 *   function does not accept (`data.path` names the option, `data.accepted` lists the keys).
 * - `INVALID_NAME`: a model or stage name is outside the grammar of {@link isValidName}.
 * - `NOT_A_MODEL_DIR`: the directory does not exist, or has no `mlship.json` / `model.json`.
 * - `INVALID_META`: `mlship.json` is not valid JSON or not valid `mlship-model/1`.
 * - `INTEGRITY`: a file is missing, truncated, of the wrong size or hash, not listed in
 *   `mlship.json`, or not a regular file inside the directory (`data.path` names the file and
 *   `data.reason` says which, see {@link IntegrityReason}).
 * - `READ_FAILED` / `WRITE_FAILED`: the file system failed (permissions, I/O, disk full).
 *
 * @example
 * ```ts
 * import { SHARED_ERROR_CODES } from '@mlship/core';
 * SHARED_ERROR_CODES.includes('INTEGRITY'); // true
 * ```
 */
export const SHARED_ERROR_CODES = [
  'INVALID_OPTION',
  'INVALID_NAME',
  'NOT_A_MODEL_DIR',
  'INVALID_META',
  'INTEGRITY',
  'READ_FAILED',
  'WRITE_FAILED',
] as const;

/** One of {@link SHARED_ERROR_CODES}. */
export type SharedErrorCode = (typeof SHARED_ERROR_CODES)[number];

/**
 * The codes @mlship/core's own functions throw (with {@link CoreError}); the shared vocabulary.
 *
 * @example
 * ```ts
 * import { CORE_ERROR_CODES } from '@mlship/core';
 * console.log(CORE_ERROR_CODES.join(', '));
 * ```
 */
export const CORE_ERROR_CODES = SHARED_ERROR_CODES;

/** One of {@link CORE_ERROR_CODES}. */
export type CoreErrorCode = SharedErrorCode;

/**
 * Why a file failed verification (`data.reason` of an `INTEGRITY` error).
 *
 * - `missing`: listed in `mlship.json` but absent.
 * - `size`: its size differs from the listed size (`data.expected` / `data.actual` in bytes).
 * - `sha256`: same size, different content.
 * - `unlisted`: present (or referenced by model.json) but not listed in `mlship.json`.
 * - `not-regular`: a symlink, directory, FIFO or device where a regular file must be.
 * - `unsafe-path`: a path that leaves the directory (`..`, absolute, `.git`, backslash, NUL).
 * - `unreadable`: the bytes could not be read (e.g. a corrupt git object).
 */
export type IntegrityReason =
  'missing' | 'size' | 'sha256' | 'unlisted' | 'not-regular' | 'unsafe-path' | 'unreadable';

/** Structured, JSON-ready context of an {@link MlshipError}; which keys are set depends on the code. */
export interface MlshipErrorData {
  /** The file, directory, option or field path the error is about. */
  path?: string;
  /** What was expected (a size, a hash, a shape, a list of accepted keys...). */
  expected?: unknown;
  /** What was found instead. */
  actual?: unknown;
  /** Anything else worth a machine reading. */
  [key: string]: unknown;
}

/** Options of the {@link MlshipError} constructor. */
export interface MlshipErrorOptions<D extends MlshipErrorData = MlshipErrorData> {
  /** The underlying error, kept as `error.cause` and in {@link MlshipError.toJSON}. */
  cause?: unknown;
  /** Structured context, kept as `error.data`. */
  data?: D;
}

/** The JSON form of an error: what {@link MlshipError.toJSON} returns. */
export interface MlshipErrorJSON<C extends string = string> {
  /** The class name, e.g. `RegistryError`. */
  name: string;
  /** The stable code. */
  code: C;
  /** The message. */
  message: string;
  /** The structured context, when set. */
  data?: MlshipErrorData;
  /** The cause, serialised the same way (or `{ name, message }` for a foreign error). */
  cause?: MlshipErrorJSON | { name: string; message: string; code?: string } | string;
}

function causeJSON(cause: unknown, depth: number): MlshipErrorJSON['cause'] {
  if (depth > 8) return '[cause chain truncated]';
  if (cause instanceof MlshipError) return cause.toJSONAt(depth + 1);
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return {
      name: cause.name,
      message: cause.message,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return String(cause);
}

/**
 * The error base every mlship package extends: a stable `code` from the package's string-literal
 * union, a message naming the bad value and what was expected, optional JSON-ready `data`, and the
 * underlying `cause`. A package's class is a few lines:
 *
 * @example
 * ```ts
 * import { MlshipError, type SharedErrorCode } from '@mlship/core';
 * type ShopErrorCode = SharedErrorCode | 'OUT_OF_STOCK';
 * class ShopError extends MlshipError<ShopErrorCode> {
 *   override readonly name = 'ShopError';
 * }
 * const e = new ShopError('OUT_OF_STOCK', 'item "x" is out of stock', { data: { path: 'x' } });
 * console.log(JSON.stringify(e)); // {"name":"ShopError","code":"OUT_OF_STOCK",...}
 * ```
 */
export class MlshipError<
  C extends string = string,
  D extends MlshipErrorData = MlshipErrorData,
> extends Error {
  /** What went wrong, stable across releases: match on this, never on the message. */
  readonly code: C;
  /** Structured context (path, expected, actual, ...), or undefined. */
  readonly data: D | undefined;
  override name = 'MlshipError';

  /**
   * @param code - the stable code
   * @param message - names the bad value and what was expected
   * @param options - `cause` (the underlying error) and `data`
   */
  constructor(code: C, message: string, options: MlshipErrorOptions<D> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.data = options.data;
  }

  /**
   * A JSON form for logs and HTTP bodies that keeps the cause chain.
   *
   * @returns name, code, message, data (when set) and cause (when set)
   */
  toJSON(): MlshipErrorJSON<C> {
    return this.toJSONAt(0);
  }

  /** @internal */
  toJSONAt(depth: number): MlshipErrorJSON<C> {
    const out: MlshipErrorJSON<C> = { name: this.name, code: this.code, message: this.message };
    if (this.data !== undefined) out.data = this.data;
    if (this.cause !== undefined) out.cause = causeJSON(this.cause, depth);
    return out;
  }
}

/**
 * Whether `e` is an mlship error of any package (also across duplicated package copies, by shape:
 * an `Error` whose `name` ends in `Error` with a string `code`), optionally with a given code.
 *
 * @param e - anything caught
 * @param code - when given, also require this code
 * @returns whether `e` is an {@link MlshipError}
 * @throws never
 * @example
 * ```ts
 * try { await verifyModelFiles('./models/cnn'); }
 * catch (e) { if (isMlshipError(e, 'INTEGRITY')) console.error('tampered:', e.data?.path); }
 * ```
 */
export function isMlshipError<C extends string = string>(
  e: unknown,
  code?: C,
): e is MlshipError<C> {
  const shaped =
    e instanceof MlshipError ||
    (e instanceof Error &&
      typeof (e as { code?: unknown }).code === 'string' &&
      e.name.endsWith('Error') &&
      typeof (e as { toJSON?: unknown }).toJSON === 'function');
  return shaped && (code === undefined || (e as { code: unknown }).code === code);
}

/**
 * Builds the type guard of one package's error class: true for instances of the class and, across
 * duplicated package copies, for errors with the class's `name` and a string `code`.
 *
 * @param name - the class's `name`, e.g. `'RegistryError'`
 * @param ctor - the class
 * @returns the guard
 * @throws never
 * @example
 * ```ts
 * export const isShopError = errorGuard('ShopError', ShopError);
 * ```
 */
export function errorGuard<T extends MlshipError>(
  name: string,
  ctor: abstract new (...args: never[]) => T,
): (e: unknown) => e is T {
  return (e: unknown): e is T =>
    e instanceof ctor ||
    (e instanceof Error && e.name === name && typeof (e as { code?: unknown }).code === 'string');
}

/**
 * A package error class whose constructor accepts the code `C` (its own code union may be wider):
 * what {@link asPackageError} and core's checks construct.
 */
export type ErrorClass<C extends string = string, T extends MlshipError = MlshipError> = new (
  code: C,
  message: string,
  options?: MlshipErrorOptions,
) => T;

/**
 * Re-expresses an mlship error (typically a {@link CoreError} from a core check) as the calling
 * package's class, with the same code, message, data and cause, so a package's public functions
 * only ever throw that package's class. Anything else is wrapped with `fallback`'s code and the
 * original as `cause`.
 *
 * @param e - what was caught
 * @param Ctor - the package's error class
 * @param fallback - code and message prefix for errors that are not mlship errors
 * @returns an instance of `Ctor`
 * @throws never
 * @example
 * ```ts
 * try { await verifyModelFiles(dir); }
 * catch (e) { throw asPackageError(e, RegistryError, { code: 'READ_FAILED', message: `reading ${dir}` }); }
 * ```
 */
export function asPackageError<C extends string, T extends MlshipError>(
  e: unknown,
  Ctor: ErrorClass<C, T>,
  fallback: { code: C; message: string },
): T {
  if (e instanceof Ctor) return e;
  if (isMlshipError(e)) {
    return new Ctor(e.code as C, e.message, {
      ...(e.cause === undefined ? {} : { cause: e.cause }),
      ...(e.data === undefined ? {} : { data: e.data }),
    });
  }
  const detail = e instanceof Error ? e.message : String(e);
  return new Ctor(fallback.code, `${fallback.message}: ${detail}`, { cause: e });
}

/**
 * The error class of @mlship/core's own checks (model directory, names, options, fs helpers).
 * Other packages re-throw it as their own class with {@link asPackageError}.
 *
 * @example
 * ```ts
 * try { assertValidName('Bad Name'); } catch (e) { if (isCoreError(e)) console.error(e.code); } // INVALID_NAME
 * ```
 */
export class CoreError extends MlshipError<CoreErrorCode> {
  override name = 'CoreError';
}

/**
 * Type guard for {@link CoreError} (also true for a copy from another install of the package).
 *
 * @param e - anything caught
 * @returns whether `e` is a CoreError
 * @throws never
 * @example
 * ```ts
 * if (isCoreError(e) && e.code === 'INTEGRITY') console.error(e.data?.reason);
 * ```
 */
export const isCoreError: (e: unknown) => e is CoreError = errorGuard('CoreError', CoreError);

/**
 * A short description of anything thrown, for messages: the message of an Error, else its string.
 *
 * @param e - anything caught
 * @returns a one-line description
 * @throws never
 * @example
 * ```ts
 * `reading ${file} failed: ${describeError(e)}`;
 * ```
 */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : (JSON.stringify(e) ?? String(e));
}
