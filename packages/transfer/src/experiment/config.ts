import type { OptimizerName } from '@mlship/model';
import { TransferError, checkKeys, optionError } from '../errors';
import type { Strategy } from '../strategy';
import { strategyLabel, validateStrategy } from '../strategy';
import type { Budget } from '../transfer';
import { validateBudget } from '../transfer';

/** Training settings every run of an experiment shares. */
export interface ExperimentTraining {
  /** Images per step (default 32). */
  batchSize?: number;
  /** Learning rate unless a strategy sets its own (default 0.001). */
  learningRate?: number;
  /** Optimizer (default `'adam'`). */
  optimizer?: OptimizerName;
  /** Worker threads of @mlship/model's `train` (default 0; `'auto'` = cores - 1). */
  workers?: number | 'auto';
}

/**
 * What an experiment compares, as JSON: strategies × seeds, each run on the same data with the same
 * budget and training settings.
 */
export interface ExperimentConfig {
  /** Name (report titles, file names): letters, digits, `.`, `_`, `-`. */
  name: string;
  /** The strategies compared; their labels (`name`, else `kind`) must differ. */
  strategies: Strategy[];
  /** Seeds; every strategy runs once per seed (results are mean ± sd over seeds). */
  seeds: number[];
  /** The budget of every run. */
  budget: Budget;
  /** Shared training settings. */
  training?: ExperimentTraining;
  /**
   * Validation accuracies for time-to-accuracy: the first wall time a run's validation accuracy
   * reaches each (default `[0.9, 0.95]`).
   */
  thresholds?: number[];
}

const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Checks an experiment config (e.g. parsed from JSON): name, strategies (each with
 * `validateStrategy`, labels unique), seeds, budget, training, thresholds.
 *
 * @param value - the config
 * @param path - its field path for messages (default `'experiment'`)
 * @returns the value typed as a config
 * @throws {@link TransferError} `INVALID_STRATEGY` for a bad strategy (`data.path` e.g.
 *   `experiment.strategies[2].layers`), `INVALID_OPTION` for any other bad or unknown field
 * @example
 * ```ts
 * validateExperimentConfig({ name: 'mnist-shift', strategies: [{ kind: 'scratch' }, { kind: 'fineTune' }],
 *   seeds: [1, 2, 3], budget: { epochs: 3 } });
 * ```
 */
export function validateExperimentConfig(value: unknown, path = 'experiment'): ExperimentConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw optionError(path, 'an experiment object', value);
  }
  checkKeys(value, ['name', 'strategies', 'seeds', 'budget', 'training', 'thresholds'], path);
  const v = value as Record<string, unknown>;
  if (typeof v['name'] !== 'string' || !LABEL_RE.test(v['name'])) {
    throw optionError(`${path}.name`, 'letters, digits, ".", "_" or "-" (at most 64)', v['name']);
  }
  const strategies = v['strategies'];
  if (!Array.isArray(strategies) || strategies.length === 0) {
    throw optionError(`${path}.strategies`, 'a non-empty array of strategies', strategies);
  }
  const labels = new Map<string, number>();
  strategies.forEach((s, i) => {
    const label = strategyLabel(validateStrategy(s, `${path}.strategies[${i}]`));
    const first = labels.get(label);
    if (first !== undefined) {
      throw new TransferError(
        'INVALID_STRATEGY',
        `${path}.strategies[${i}]: label ${JSON.stringify(label)} is already used by strategies[${first}]; give one of them a distinct "name"`,
        { data: { path: `${path}.strategies[${i}].name` } },
      );
    }
    labels.set(label, i);
  });
  const seeds = v['seeds'];
  if (
    !Array.isArray(seeds) ||
    seeds.length === 0 ||
    !seeds.every((s) => Number.isSafeInteger(s)) ||
    new Set(seeds).size !== seeds.length
  ) {
    throw optionError(`${path}.seeds`, 'a non-empty array of distinct integers', seeds);
  }
  validateBudget(v['budget'], `${path}.budget`);
  const training = v['training'];
  if (training !== undefined) {
    checkKeys(training, ['batchSize', 'learningRate', 'optimizer', 'workers'], `${path}.training`);
    const t = training as Record<string, unknown>;
    if (
      t['batchSize'] !== undefined &&
      !(Number.isInteger(t['batchSize']) && (t['batchSize'] as number) > 0)
    ) {
      throw optionError(`${path}.training.batchSize`, 'a positive integer', t['batchSize']);
    }
    const lr = t['learningRate'];
    if (lr !== undefined && !(typeof lr === 'number' && lr > 0 && Number.isFinite(lr))) {
      throw optionError(`${path}.training.learningRate`, 'a positive number', lr);
    }
    const w = t['workers'];
    if (w !== undefined && w !== 'auto' && !(Number.isInteger(w) && (w as number) >= 0)) {
      throw optionError(`${path}.training.workers`, "'auto' or an integer >= 0", w);
    }
  }
  const thresholds = v['thresholds'];
  if (
    thresholds !== undefined &&
    (!Array.isArray(thresholds) ||
      !thresholds.every((t) => typeof t === 'number' && t > 0 && t <= 1))
  ) {
    throw optionError(`${path}.thresholds`, 'an array of accuracies in (0, 1]', thresholds);
  }
  return value as ExperimentConfig;
}
