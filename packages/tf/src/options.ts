import { checkOptions } from '@mlship/core';
import { TfError } from './errors';

/**
 * @internal
 * Rejects an options object with a key outside `accepted` (or one that is not an object) with a
 * `TfError` `INVALID_OPTION` naming the key and the accepted ones (`checkOptions` of `@mlship/core`).
 * Plain JavaScript callers misspell keys; ignoring them silently would run with defaults.
 */
export function checkTfOptions(options: unknown, accepted: readonly string[], where: string): void {
  checkOptions(options, accepted, where, TfError);
}
