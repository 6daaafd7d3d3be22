import { describe, expect, it } from 'vitest';
import { createRng } from './rng';

describe('createRng (mulberry32)', () => {
  it('gives the pinned sequence for seed 42 (same in every process and version)', () => {
    const r = createRng(42);
    expect([r.next(), r.next(), r.int(1000)]).toEqual([
      0.24572046380490065, 0.5754302670247853, 355,
    ]);
  });

  it('separates streams and seeds', () => {
    expect(createRng(1).next()).not.toBe(createRng(2).next());
    expect(createRng(1, 0).next()).not.toBe(createRng(1, 1).next());
    expect(createRng(2 ** 40).next()).not.toBe(createRng(0).next());
  });

  it('draws normals with mean ~0 and sd ~1', () => {
    const r = createRng(7);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const v = r.normal();
      s += v;
      s2 += v * v;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(s2 / n) - 1)).toBeLessThan(0.03);
  });

  it.each([[1.5], [Number.NaN], [2 ** 60]])('rejects seed %s', (seed) => {
    expect(() => createRng(seed)).toThrow(/seed .* is not valid \(expected a safe integer\)/);
  });
});
