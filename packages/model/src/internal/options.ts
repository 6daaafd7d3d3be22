import { checkOptions } from '@mlship/core';
import { ModelError } from '../errors';

/** `INVALID_OPTION` as `<path>: expected <expected>, got <value>`. @internal */
export function optionError(path: string, expected: string, got: unknown): ModelError {
  return new ModelError(
    'INVALID_OPTION',
    `${path}: expected ${expected}, got ${typeof got === 'function' ? 'a function' : JSON.stringify(got)}`,
    { data: { path } },
  );
}

/**
 * `value ?? fallback`, checked to be a positive integer (an option such as `batchSize`).
 *
 * @throws {@link ModelError} `INVALID_OPTION` naming the option (`data.path`) otherwise
 * @internal
 */
export function positiveIntOption(
  value: number | undefined,
  name: string,
  fallback: number,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v <= 0) {
    throw new ModelError(
      'INVALID_OPTION',
      `${name}: expected a positive integer, got ${String(v)}`,
      {
        data: { path: name },
      },
    );
  }
  return v;
}

/**
 * Every key of an options type, each listed once: `Record<keyof T, true>` makes the compiler
 * refuse a missing or an extra key, so the accepted list cannot drift from the interface.
 *
 * @internal
 */
export function keysOf<T>(table: Record<keyof T & string, true>): readonly string[] {
  return Object.keys(table);
}

/**
 * Rejects keys an options object does not accept (@mlship/core's `checkOptions`, thrown as
 * {@link ModelError}): plain JavaScript callers misspell keys (`{ epoch: 5 }`), and an ignored key
 * silently trains with the default.
 *
 * @throws {@link ModelError} `INVALID_OPTION` naming the key and the accepted ones (`data.path` the
 *   key, `data.accepted` the list), or saying the options are not an object
 * @internal
 */
export function checkOptionKeys(
  options: unknown,
  accepted: readonly string[],
  where: string,
): void {
  checkOptions(options, accepted, where, ModelError);
}
