import { describe, expect, it } from 'vitest';
import { createRng } from './random';
import { populationStabilityIndex } from './drift';

function sample(n: number, seed: number, f: (u: number) => number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: n }, () => f(rng.next()));
}

describe('populationStabilityIndex', () => {
  it('is about 0 for two samples of the same distribution and grows with the shift', () => {
    const reference = sample(5000, 1, (u) => u);
    expect(
      populationStabilityIndex(
        reference,
        sample(5000, 2, (u) => u),
      ).psi,
    ).toBeLessThan(0.01);
    const moderate = populationStabilityIndex(
      reference,
      sample(5000, 3, (u) => u * 0.8),
    ).psi;
    const major = populationStabilityIndex(
      reference,
      sample(5000, 4, (u) => u * 0.4),
    ).psi;
    expect(moderate).toBeGreaterThan(0.1);
    expect(major).toBeGreaterThan(0.25);
    expect(major).toBeGreaterThan(moderate);
  });

  it('cuts bins at the reference deciles: each holds a tenth of the reference', () => {
    const reference = Float64Array.from({ length: 1000 }, (_, i) => i);
    const { bins, psi } = populationStabilityIndex(reference, reference);
    expect(bins).toHaveLength(10);
    expect(bins.map((b) => b.reference)).toEqual(new Array(10).fill(0.1));
    expect(bins[0]!.lower).toBe(-Infinity);
    expect(bins[1]!.lower).toBe(100);
    expect(psi).toBe(0);
  });

  it('merges repeated cut points (confidences piled up at 1)', () => {
    const reference = [
      ...new Array<number>(90).fill(1),
      0.5,
      0.6,
      0.7,
      0.8,
      0.9,
      0.95,
      0.96,
      0.97,
      0.98,
      0.99,
    ];
    const { bins } = populationStabilityIndex(reference, reference);
    expect(bins.length).toBeLessThan(10);
    expect(bins.reduce((s, b) => s + b.reference, 0)).toBeCloseTo(1);
  });

  it('matches the definition on a hand-computed case', () => {
    // Reference deciles of 0..9 with 2 bins cut at 5: shares 0.5 / 0.5; current 0.8 / 0.2.
    const reference = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const current = [0, 1, 2, 3, 4, 5, 6, 7, 9, 9].map((v, i) => (i < 8 ? v % 5 : v));
    const { psi } = populationStabilityIndex(reference, current, { bins: 2 });
    expect(psi).toBeCloseTo(
      (0.8 - 0.5) * Math.log(0.8 / 0.5) + (0.2 - 0.5) * Math.log(0.2 / 0.5),
      12,
    );
  });

  it.each([
    [[], [1], {}, /reference is empty/],
    [[1], [Number.NaN], {}, /current\[0\] is NaN, expected a finite number/],
    [[1], [1], { bins: 1 }, /bins must be an integer >= 2, got 1/],
    [[1], [1], { epsilon: 0 }, /epsilon must be in \(0, 1\), got 0/],
  ])('refuses %j vs %j %j', (reference, current, options, message) => {
    expect(() => populationStabilityIndex(reference, current, options)).toThrow(message);
  });
});
