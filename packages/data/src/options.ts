import { checkOptions } from '@mlship/core';
import { DataError } from './errors';

/**
 * @internal Rejects an options object with a key the function does not read (a misspelt option in
 * plain JavaScript would otherwise be ignored silently): DataError `INVALID_OPTION` naming the key
 * and the accepted ones (`checkOptions` of `@mlship/core`). `undefined` is fine.
 */
export function checkDataOptions(
  options: unknown,
  accepted: readonly string[],
  where: string,
): void {
  checkOptions(options, accepted, where, DataError);
}
