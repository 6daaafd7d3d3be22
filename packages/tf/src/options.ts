import { checkOptions } from '@mlship/core';
import type { ErrorClass } from '@mlship/core';
import { TfError } from './errors';

/**
 * @internal
 * Rejects an options object with a key outside `accepted` (or one that is not an object) with a
 * `TfError` `INVALID_OPTION` naming the key and the accepted ones (`checkOptions` of `@mlship/core`).
 * Plain JavaScript callers misspell keys; ignoring them silently would run with defaults.
 */
export function checkTfOptions(options: unknown, accepted: readonly string[], where: string): void {
  // ErrorClass<'INVALID_OPTION'> wants a class whose `code` is exactly that literal; TfError's
  // union is wider, and checkOptions only ever constructs it with 'INVALID_OPTION'.
  checkOptions(options, accepted, where, TfError as unknown as ErrorClass<'INVALID_OPTION'>);
}
