import { CoreError } from './errors';
import type { ErrorClass } from './errors';

/**
 * Checks an options object at a public function's entry: `undefined` is fine (all defaults), else
 * it must be a plain object whose keys are all in `accepted`. Plain JavaScript callers misspell
 * keys (`{ epoch: 5 }`); silently ignoring them trains for the default number of epochs.
 *
 * @param options - what the caller passed
 * @param accepted - every key the function reads
 * @param where - the function (or option path) for messages, e.g. `'train options'`
 * @param Ctor - the error class to throw (default {@link CoreError})
 * @returns nothing
 * @throws `Ctor` `INVALID_OPTION` naming the unknown key and the accepted ones (`data.path` = the
 *   key, `data.accepted` = the list), or saying the options are not an object
 * @example
 * ```ts
 * checkOptions({ epoch: 5 }, ['epochs', 'batchSize'], 'train options');
 * // throws: train options: unknown option "epoch" (did you mean "epochs"?); accepted: epochs, batchSize
 * ```
 */
export function checkOptions(
  options: unknown,
  accepted: readonly string[],
  where: string,
  Ctor: ErrorClass<'INVALID_OPTION'> = CoreError,
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new Ctor(
      'INVALID_OPTION',
      `${where}: expected an options object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`,
      { data: { path: where, expected: 'object' } },
    );
  }
  for (const key of Object.keys(options)) {
    if (accepted.includes(key)) continue;
    const near = closest(key, accepted);
    throw new Ctor(
      'INVALID_OPTION',
      `${where}: unknown option ${JSON.stringify(key)}${near === undefined ? '' : ` (did you mean ${JSON.stringify(near)}?)`}; accepted: ${accepted.join(', ')}`,
      { data: { path: key, accepted: [...accepted] } },
    );
  }
}

/** The accepted key nearest to `key` by edit distance, when it is close enough to be a typo. */
function closest(key: string, accepted: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of accepted) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
