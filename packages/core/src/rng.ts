import { CoreError } from './errors';

/**
 * A seeded pseudo-random source. mlship uses mulberry32 (Tommy Ettinger's 32-bit generator:
 * one 32-bit state, period 2^32, passes gjrand/PractRand at the sizes used here) because it is tiny,
 * fast, and gives the same sequence on every platform and in every process.
 */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform float in [min, max). */
  uniform(min: number, max: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
}

/**
 * Whether `seed` is a valid seed: any safe integer (folded to 32 bits by {@link mixSeed}).
 *
 * @param seed - candidate seed
 * @returns true for a safe integer
 * @throws never
 * @example
 * ```ts
 * isValidSeed(42); // true
 * isValidSeed(0.5); // false
 * ```
 */
export function isValidSeed(seed: unknown): seed is number {
  return typeof seed === 'number' && Number.isSafeInteger(seed);
}

/**
 * Folds a safe integer seed and optional stream ids into one 32-bit state (murmur3 finaliser), so
 * nearby seeds and streams give unrelated sequences.
 *
 * @param seed - a safe integer
 * @param streams - sub-stream ids
 * @returns a 32-bit unsigned state
 * @throws never
 * @example
 * ```ts
 * const state = mixSeed(42, 7); // the state of stream 7 of seed 42
 * ```
 */
export function mixSeed(seed: number, ...streams: number[]): number {
  let h = (seed >>> 0) ^ Math.floor(seed / 0x100000000);
  h = fmix(h ^ 0x9e3779b9);
  for (const s of streams) h = fmix((h ^ (s >>> 0)) + 0x6d2b79f5);
  return h >>> 0;
}

function fmix(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Creates a mulberry32 generator. The seed may be any safe integer; optional stream ids derive
 * independent sub-streams (e.g. one per image) from the same seed.
 *
 * @param seed - a safe integer
 * @param streams - optional sub-stream ids, mixed into the state
 * @returns the generator
 * @throws {@link CoreError} `INVALID_OPTION` for a seed that is not a safe integer
 * @example
 * ```ts
 * const rng = createRng(42);
 * rng.int(10); // same value in every process
 * ```
 */
export function createRng(seed: number, ...streams: number[]): Rng {
  if (!isValidSeed(seed)) {
    throw new CoreError(
      'INVALID_OPTION',
      `createRng: seed ${String(seed)} is not valid (expected a safe integer)`,
      { data: { path: 'seed', expected: 'safe integer', actual: seed } },
    );
  }
  let a = mixSeed(seed, ...streams);
  let spare: number | undefined;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    uniform: (min, max) => min + (max - min) * next(),
    normal: () => {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let u = next();
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}

/**
 * A Fisher-Yates permutation of `0..n-1` drawn from `rng`.
 *
 * @param n - how many indices
 * @param rng - the generator (see {@link createRng})
 * @returns the permuted indices
 * @throws never
 * @example
 * ```ts
 * const order = permutation(10, createRng(1)); // same order in every process
 * ```
 */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}
