import { createRng, isValidSeed, permutation } from '@mlship/core';
import type { Rng } from '@mlship/core';
import { DataError } from './errors';

// The seeded generator is @mlship/core's (one implementation for every package); @mlship/data
// re-exports it from its root so existing imports keep working.
export { createRng, permutation };
export type { Rng };

/** @internal Checks a seed (any safe integer) and names the calling operation when it is not one. */
export function checkSeed(seed: unknown, where: string): number {
  if (!isValidSeed(seed)) {
    throw new DataError(
      'INVALID_OPTION',
      `${where}: seed ${String(seed)} is not valid (expected a safe integer)`,
      {
        data: { expected: 'safe integer', actual: seed },
      },
    );
  }
  return seed;
}
