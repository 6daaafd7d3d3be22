import { CoreError } from './errors';
import type { ErrorClass } from './errors';

const NAME_RE = /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/;

/**
 * The one name grammar for models and stages, in words (for messages and docs).
 *
 * @example
 * ```ts
 * console.log(`expected ${NAME_GRAMMAR}`);
 * ```
 */
export const NAME_GRAMMAR =
  "lowercase [a-z0-9] with inner '.', '_' or '-', starting and ending with [a-z0-9], no '..', not ending in '.lock', at most 100 characters";

/**
 * Whether `name` is a valid model or stage name: lowercase `[a-z0-9]` with inner `.`, `_`, `-`,
 * starting and ending with `[a-z0-9]`, no `..`, not ending in `.lock`, at most 100 characters.
 * Every such name is safe as a git ref component, a file name and a GTO tag name, so a name
 * @mlship/model writes into mlship.json is never refused by the registry.
 *
 * @param name - candidate name
 * @returns true when valid
 * @throws never (anything that is not a string is simply invalid)
 * @example
 * ```ts
 * isValidName('cnn'); // true
 * isValidName('../x'); // false
 * ```
 */
export function isValidName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length <= 100 &&
    NAME_RE.test(name) &&
    !name.includes('..') &&
    !name.endsWith('.lock')
  );
}

/**
 * Throws unless {@link isValidName}.
 *
 * @param name - candidate name
 * @param what - what the name is of, for the message (default `'model'`)
 * @param Ctor - the error class to throw (default `CoreError`)
 * @returns nothing; narrows `name` to string
 * @throws `Ctor` `INVALID_NAME` naming the value and the grammar (`data.path` = the name)
 * @example
 * ```ts
 * assertValidName('Model A'); // throws INVALID_NAME
 * ```
 */
export function assertValidName(
  name: unknown,
  what = 'model',
  Ctor: ErrorClass<'INVALID_NAME'> = CoreError,
): asserts name is string {
  if (!isValidName(name)) {
    throw new Ctor(
      'INVALID_NAME',
      `Invalid ${what} name ${JSON.stringify(name)}: expected ${NAME_GRAMMAR}`,
      { data: { path: String(name), expected: NAME_GRAMMAR } },
    );
  }
}
