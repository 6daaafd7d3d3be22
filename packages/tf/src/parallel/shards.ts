// How a batch is split between the main thread and the workers, and the shape checks on it.
import { TfError } from '../errors';

/** @internal Splits `n` rows into `parts` contiguous shards as even as possible: [start, count][]. */
export function shardRows(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const count = Math.floor(n / parts) + (i < n % parts ? 1 : 0);
    out.push([start, count]);
    start += count;
  }
  return out;
}

/** @internal One worker's part of a batch. */
export interface Shard {
  worker: number;
  start: number;
  count: number;
}

/**
 * @internal
 * Splits `n` rows proportionally to `weights` (largest remainders), every part at least 1 row
 * while there are enough rows.
 */
export function weightedRows(n: number, weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (n * w) / total);
  const rows = exact.map((e) => Math.floor(e));
  let left = n - rows.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) {
    const i = (order[k] as readonly [number, number])[1];
    rows[i] = (rows[i] as number) + 1;
  }
  if (n >= rows.length) {
    for (let i = 0; i < rows.length; i++) {
      if (rows[i] === 0) {
        const donor = rows.indexOf(Math.max(...rows));
        rows[donor] = (rows[donor] as number) - 1;
        rows[i] = 1;
      }
    }
  }
  return rows;
}

/**
 * @internal
 * Checks that `xShape`/`yShape` describe `x`/`y` for the same number of examples.
 *
 * @returns the target shape (default `[n, y.length / n]`).
 * @throws TfError `INVALID_OPTION` naming the shape and the value count.
 */
export function checkShapes(
  what: string,
  x: Float32Array,
  xShape: readonly number[],
  y: Float32Array,
  yShape: readonly number[] | undefined,
): readonly number[] {
  const n = xShape[0] ?? -1;
  const ok = (s: readonly number[], len: number): boolean =>
    s.length >= 2 &&
    s.every((d) => Number.isInteger(d) && d >= 0) &&
    s.reduce((a, b) => a * b, 1) === len;
  if (!ok(xShape, x.length)) {
    throw new TfError(
      'INVALID_OPTION',
      `${what}: xShape [${xShape.join(', ')}] does not describe the ${x.length} input values; expected [n, ...inputShape]`,
      { data: { expected: x.length, actual: [...xShape] } },
    );
  }
  const ys = yShape ?? [n, n > 0 ? y.length / n : 0];
  if (!ok(ys, y.length) || ys[0] !== n) {
    throw new TfError(
      'INVALID_OPTION',
      `${what}: yShape [${ys.join(', ')}] does not describe ${y.length} target values for ${n} examples; expected [${n}, ...targetShape]`,
      { data: { expected: [n], actual: [...ys] } },
    );
  }
  return ys;
}
