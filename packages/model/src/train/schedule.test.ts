import { describe, expect, it } from 'vitest';
import type { LearningRateSchedule } from './schedule';
import { learningRateAt } from './schedule';

describe('learningRateAt', () => {
  it.each<[string, LearningRateSchedule, number, number]>([
    ['constant', { type: 'constant' }, 4, 0.01],
    ['step, first epoch', { type: 'step', every: 2, factor: 0.5 }, 1, 0.01],
    ['step, second epoch', { type: 'step', every: 2, factor: 0.5 }, 2, 0.01],
    ['step, third epoch', { type: 'step', every: 2, factor: 0.5 }, 3, 0.005],
    ['step, fifth epoch', { type: 'step', every: 2, factor: 0.5 }, 5, 0.0025],
    ['exponential', { type: 'exponential', factor: 0.9 }, 3, 0.01 * 0.81],
    ['cosine start', { type: 'cosine' }, 1, 0.01],
    [
      'cosine middle',
      { type: 'cosine', minLearningRate: 0.002 },
      3,
      0.002 + (0.008 * (1 + Math.cos((Math.PI * 2) / 5))) / 2,
    ],
    [
      'cosine last epoch, still above the minimum',
      { type: 'cosine', minLearningRate: 0.001 },
      5,
      0.001 + (0.009 * (1 + Math.cos((Math.PI * 4) / 5))) / 2,
    ],
    ['function', (epoch, initial) => initial / epoch, 4, 0.0025],
  ])('%s', (_name, schedule, epoch, expected) => {
    expect(learningRateAt(schedule, epoch, 0.01, 5)).toBeCloseTo(expected, 10);
  });

  it.each<[LearningRateSchedule, RegExp]>([
    [
      { type: 'step', every: 0, factor: 0.5 },
      /^schedule\.every: expected a positive integer, got 0$/,
    ],
    [{ type: 'exponential', factor: -1 }, /^schedule\.factor: expected a positive number, got -1$/],
    [
      { type: 'linear' } as never,
      /^schedule\.type: expected 'constant', 'step', 'exponential', 'cosine' or a function, got "linear"$/,
    ],
    [() => Number.NaN, /^schedule: expected a finite learning rate >= 0 for epoch 1, got NaN$/],
  ])('rejects %o', (schedule, message) => {
    expect(() => learningRateAt(schedule, 1, 0.01, 5)).toThrow(message);
  });
});
