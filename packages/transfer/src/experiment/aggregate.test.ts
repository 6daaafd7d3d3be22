import { describe, expect, it } from 'vitest';
import type { TransferEpoch } from '../transfer';
import { checkFindings, meanSd, timeToAccuracy } from './aggregate';
import type { MeanSd, StrategySummary } from './types';

const epoch = (n: number, valAccuracy: number, elapsed: number): TransferEpoch => ({
  epoch: n,
  loss: 1,
  accuracy: 0.5,
  valAccuracy,
  valLoss: 1,
  learningRate: 0.001,
  seconds: 1,
  imagesPerSec: 100,
  elapsed,
  phase: 1,
});

const ms = (mean: number): MeanSd => ({ mean, sd: 0, n: 3 });
const summary = (
  strategy: string,
  kind: StrategySummary['kind'],
  acc: number,
): StrategySummary => ({
  strategy,
  kind,
  runs: 3,
  testAccuracy: ms(acc),
  testLoss: ms(0.1),
  seconds: ms(10),
  epochSeconds: ms(2),
  imagesPerSec: ms(1000),
  trainableParams: 1,
  frozenParams: 0,
  epochs: [],
  timeToAccuracy: [],
});

describe('meanSd', () => {
  it('gives the mean and the sample standard deviation (n - 1), 0 for one value', () => {
    const m = meanSd([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(m.mean).toBe(5);
    expect(m.sd).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(meanSd([0.9])).toEqual({ mean: 0.9, sd: 0, n: 1 });
  });
});

describe('timeToAccuracy', () => {
  it('is the wall time at the end of the first epoch reaching each threshold, null when never', () => {
    const history = [epoch(1, 0.8, 3), epoch(2, 0.93, 5.5), epoch(3, 0.91, 8), epoch(4, 0.96, 10)];
    expect(timeToAccuracy(history, [0.9, 0.95, 0.99])).toEqual([
      { threshold: 0.9, seconds: 5.5, epoch: 2 },
      { threshold: 0.95, seconds: 10, epoch: 4 },
      { threshold: 0.99, seconds: null, epoch: null },
    ]);
  });
});

describe('checkFindings', () => {
  const reference = { sourceAccuracy: 0.97, targetAccuracy: 0.6, targetLoss: 1.5 };

  it('holds each finding when the numbers say so', () => {
    const findings = checkFindings(
      [
        summary('scratch', 'scratch', 0.95),
        summary('fineTune', 'fineTune', 0.98),
        summary('freeze', 'freeze', 0.97),
      ],
      reference,
    );
    expect(findings.map((f) => [f.id, f.held])).toEqual([
      ['adapts', true],
      ['freezeReachesOldLevel', true],
      ['fineTuneBeatsOriginal', true],
    ]);
    expect(findings[1]!.evidence).toMatch(/freeze reaches 97\.00 ± 0\.00 %.*scored 97\.00 %/);
  });

  it('says plainly when a finding does not hold, or cannot be tested', () => {
    const findings = checkFindings(
      [
        summary('scratch', 'scratch', 0.96),
        summary('fineTune', 'fineTune', 0.955),
        summary('cache', 'featureCache', 0.9),
      ],
      { ...reference, sourceAccuracy: null },
    );
    expect(findings.map((f) => [f.id, f.held])).toEqual([
      ['adapts', false],
      ['freezeReachesOldLevel', null],
      ['fineTuneBeatsOriginal', null],
    ]);
    expect(findings[1]!.evidence).toMatch(/old level\) is unknown/);
  });
});
