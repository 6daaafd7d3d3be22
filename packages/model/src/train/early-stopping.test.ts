import { initRuntime, tf } from '@mlship/tf';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../build';
import { pixelSpec } from '../internal/testing';
import type { EpochStats } from '@mlship/core';
import { EarlyStopping } from './early-stopping';
import type { EarlyStoppingOptions } from './types';

beforeAll(async () => {
  await initRuntime();
});

const stats = (epoch: number, m: Partial<EpochStats>): EpochStats => ({
  epoch,
  loss: 1,
  accuracy: 0.5,
  learningRate: 0.1,
  seconds: 1,
  imagesPerSec: 1,
  ...m,
});

const options = (o: Partial<EarlyStoppingOptions>): Required<EarlyStoppingOptions> => ({
  monitor: 'loss',
  patience: 2,
  minDelta: 0,
  restoreBest: true,
  ...o,
});

/** Feeds the values epoch by epoch; returns the epoch after which it said stop (or null). */
function stopAfter(early: EarlyStopping, field: keyof EpochStats, values: number[]): number | null {
  for (const [i, v] of values.entries())
    if (early.onEpochEnd(stats(i + 1, { [field]: v }))) return i + 1;
  return null;
}

describe('EarlyStopping', () => {
  it.each<
    [string, Partial<EarlyStoppingOptions>, keyof EpochStats, number[], number | null, number]
  >([
    ['a loss that stops falling', {}, 'loss', [1, 0.5, 0.6, 0.7, 0.1], 4, 2],
    ['a loss that keeps falling', {}, 'loss', [1, 0.9, 0.8, 0.7], null, 4],
    ['patience 0', { patience: 0 }, 'loss', [1, 1.1], 2, 1],
    ['a fall smaller than minDelta', { minDelta: 0.2 }, 'loss', [1, 0.9, 0.85], 3, 1],
    [
      'an accuracy that stops rising',
      { monitor: 'accuracy' },
      'accuracy',
      [0.5, 0.9, 0.8, 0.9],
      4,
      2,
    ],
    ['valLoss', { monitor: 'valLoss', patience: 1 }, 'valLoss', [0.3, 0.2, 0.25], 3, 2],
    ['valAccuracy', { monitor: 'valAccuracy', patience: 1 }, 'valAccuracy', [0.3, 0.2], 2, 1],
  ])('watches %s', (_what, o, field, values, stop, best) => {
    const model = buildModel(pixelSpec());
    const early = new EarlyStopping(model, options({ restoreBest: false, ...o }));
    expect(stopAfter(early, field, values)).toBe(stop);
    expect(early.bestEpoch).toBe(best);
    early.dispose();
    model.dispose();
  });

  it('puts back the best epoch’s weights with restoreBest, and leaves no tensors', () => {
    const model = buildModel(pixelSpec());
    const before = tf.memory().numTensors;
    const set = (v: number): void =>
      tf.tidy(() => model.setWeights(model.getWeights().map((w) => tf.fill(w.shape, v))));
    const read = (): number[] => model.getWeights().map((w) => w.dataSync()[0]!);
    const early = new EarlyStopping(model, options({ patience: 1 }));
    set(1);
    expect(early.onEpochEnd(stats(1, { loss: 0.9 }))).toBe(false);
    set(2);
    expect(early.onEpochEnd(stats(2, { loss: 0.5 }))).toBe(false); // the best
    set(3);
    expect(early.onEpochEnd(stats(3, { loss: 0.7 }))).toBe(true);
    expect(early.restoreBest(3)).toBe(2);
    expect(read()).toEqual([2, 2]);
    expect(early.restoreBest(2)).toBe(2); // already the best
    early.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('keeps the last weights without restoreBest', () => {
    const model = buildModel(pixelSpec());
    const early = new EarlyStopping(model, options({ patience: 0, restoreBest: false }));
    early.onEpochEnd(stats(1, { loss: 0.5 }));
    expect(early.onEpochEnd(stats(2, { loss: 0.7 }))).toBe(true);
    expect(early.restoreBest(2)).toBe(2);
    early.dispose();
    model.dispose();
  });
});
