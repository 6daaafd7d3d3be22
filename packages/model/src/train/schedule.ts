import { ModelError } from '../errors';
import { checkOptionKeys } from '../internal/options';

/**
 * How the learning rate changes from epoch to epoch (applied at the start of each epoch).
 *
 * - `constant`: always the initial rate.
 * - `step`: multiplied by `factor` every `every` epochs.
 * - `exponential`: multiplied by `factor` every epoch.
 * - `cosine`: cosine decay from the initial rate towards `minLearningRate` (default 0), sampled at the start
 *   of each epoch: `min + (initial - min) * (1 + cos(pi * (epoch - 1) / epochs)) / 2`.
 * - a function `(epoch, initial, epochs) => rate` (1-based epoch); not JSON-serialisable, recorded as `'custom'`.
 */
export type LearningRateSchedule =
  | { type: 'constant' }
  | { type: 'step'; every: number; factor: number }
  | { type: 'exponential'; factor: number }
  | { type: 'cosine'; minLearningRate?: number }
  | ((epoch: number, initial: number, epochs: number) => number);

const SCHEDULE_KEYS: Partial<Record<string, readonly string[]>> = {
  constant: ['type'],
  step: ['type', 'every', 'factor'],
  exponential: ['type', 'factor'],
  cosine: ['type', 'minLearningRate'],
};

/**
 * Checks a schedule's fields.
 *
 * @internal
 */
export function checkSchedule(schedule: LearningRateSchedule, path = 'schedule'): void {
  if (typeof schedule === 'function') return;
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new ModelError(
      'INVALID_OPTION',
      `${path}.${field}: expected ${expected}, got ${JSON.stringify(got)}`,
      { data: { path: `${path}.${field}` } },
    );
  };
  const keys = SCHEDULE_KEYS[(schedule as { type?: unknown } | undefined)?.type as string];
  if (keys !== undefined) checkOptionKeys(schedule, keys, path);
  switch (schedule?.type) {
    case 'constant':
      return;
    case 'step':
      if (!Number.isInteger(schedule.every) || schedule.every <= 0)
        fail('every', 'a positive integer', schedule.every);
      if (!(schedule.factor > 0)) fail('factor', 'a positive number', schedule.factor);
      return;
    case 'exponential':
      if (!(schedule.factor > 0)) fail('factor', 'a positive number', schedule.factor);
      return;
    case 'cosine':
      if (schedule.minLearningRate !== undefined && !(schedule.minLearningRate >= 0))
        fail('minLearningRate', 'a number >= 0', schedule.minLearningRate);
      return;
    default:
      fail(
        'type',
        "'constant', 'step', 'exponential', 'cosine' or a function",
        (schedule as { type?: unknown } | undefined)?.type,
      );
  }
}

/**
 * The learning rate of a 1-based `epoch` under a schedule.
 *
 * @param schedule - the {@link LearningRateSchedule}
 * @param epoch - 1-based epoch
 * @param initial - the initial learning rate
 * @param epochs - total epochs (for `cosine`)
 * @returns the rate for that epoch
 * @throws {@link ModelError} `INVALID_OPTION` when the schedule is malformed or a function returns a non-positive or non-finite rate
 * @example
 * ```ts
 * learningRateAt({ type: 'step', every: 2, factor: 0.5 }, 3, 0.01, 10); // 0.005
 * ```
 */
export function learningRateAt(
  schedule: LearningRateSchedule,
  epoch: number,
  initial: number,
  epochs: number,
): number {
  checkSchedule(schedule);
  let lr: number;
  if (typeof schedule === 'function') lr = schedule(epoch, initial, epochs);
  else if (schedule.type === 'constant') lr = initial;
  else if (schedule.type === 'step')
    lr = initial * schedule.factor ** Math.floor((epoch - 1) / schedule.every);
  else if (schedule.type === 'exponential') lr = initial * schedule.factor ** (epoch - 1);
  else {
    const min = schedule.minLearningRate ?? 0;
    // Sampled at epoch starts over `epochs` epochs: the last epoch still gets a small, non-zero rate.
    const progress = (epoch - 1) / epochs;
    lr = min + ((initial - min) * (1 + Math.cos(Math.PI * progress))) / 2;
  }
  if (!Number.isFinite(lr) || lr < 0) {
    throw new ModelError(
      'INVALID_OPTION',
      `schedule: expected a finite learning rate >= 0 for epoch ${epoch}, got ${lr}`,
      { data: { path: 'schedule' } },
    );
  }
  return lr;
}
