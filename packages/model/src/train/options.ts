import type { ImageDataset } from '@mlship/data';
import type { tf } from '@mlship/tf';
import { ModelError } from '../errors';
import { checkDataset, inputSpecOf, subset } from '../internal/data';
import { checkOptionKeys, keysOf, optionError } from '../internal/options';
import { trainableVariables } from './optimizer';
import type { InputSpec } from '@mlship/core';
import { checkParallelModel, resolveWorkers } from './parallel-stepper';
import type { LearningRateSchedule } from './schedule';
import { checkSchedule } from './schedule';
import type { EarlyStoppingOptions, OptimizerName, TrainOptions, TrainingParams } from './types';

const TRAIN_OPTION_KEYS = keysOf<TrainOptions>({
  optimizer: true,
  learningRate: true,
  momentum: true,
  schedule: true,
  epochs: true,
  batchSize: true,
  validationSplit: true,
  validationData: true,
  earlyStopping: true,
  seed: true,
  shuffle: true,
  input: true,
  onProgress: true,
  progressEvery: true,
  onEpochEnd: true,
  signal: true,
  checkpointDir: true,
  checkpointMeta: true,
  now: true,
  workers: true,
});

const EARLY_STOPPING_KEYS = keysOf<EarlyStoppingOptions>({
  monitor: true,
  patience: true,
  minDelta: true,
  restoreBest: true,
});

const CHECKPOINT_META_KEYS = keysOf<NonNullable<TrainOptions['checkpointMeta']>>({
  name: true,
  labels: true,
  input: true,
  spec: true,
  metrics: true,
  metricsDataset: true,
  datasets: true,
  parent: true,
  strategy: true,
  created: true,
  extra: true,
});

const OPTIMIZERS: readonly OptimizerName[] = [
  'adam',
  'sgd',
  'momentum',
  'rmsprop',
  'adamax',
  'adagrad',
];

/** {@link TrainOptions} with every default applied and checked, plus what follows from the data. @internal */
export interface ResolvedTraining {
  optimizer: OptimizerName;
  learningRate: number;
  momentum: number;
  schedule: LearningRateSchedule;
  epochs: number;
  batchSize: number;
  seed: number;
  shuffle: boolean;
  progressEvery: number;
  now: () => number;
  /** Worker threads (0: every step on the calling thread). */
  workers: number;
  /** How Uint8 pixels become model input. */
  input: InputSpec;
  /** The model's output classes. */
  classes: number;
  /** The images trained on (all of `data`, or its first part with `validationSplit`). */
  trainSet: ImageDataset;
  /** Validation images, if any. */
  valSet: ImageDataset | undefined;
  earlyStopping: Required<EarlyStoppingOptions> | null;
  /** The run's parameters for `mlship.json` `training`. */
  params: TrainingParams;
}

function resolveEarlyStopping(
  e: EarlyStoppingOptions,
  hasValidation: boolean,
): Required<EarlyStoppingOptions> {
  const monitor = e.monitor ?? (hasValidation ? 'valLoss' : 'loss');
  if (!['loss', 'accuracy', 'valLoss', 'valAccuracy'].includes(monitor))
    throw optionError(
      'earlyStopping.monitor',
      "'loss', 'accuracy', 'valLoss' or 'valAccuracy'",
      monitor,
    );
  if ((monitor === 'valLoss' || monitor === 'valAccuracy') && !hasValidation) {
    throw optionError(
      'earlyStopping.monitor',
      "'loss' or 'accuracy' (there is no validation data)",
      monitor,
    );
  }
  const patience = e.patience ?? 3;
  if (!Number.isInteger(patience) || patience < 0)
    throw optionError('earlyStopping.patience', 'an integer >= 0', patience);
  const minDelta = e.minDelta ?? 0;
  if (!(minDelta >= 0)) throw optionError('earlyStopping.minDelta', 'a number >= 0', minDelta);
  return { monitor, patience, minDelta, restoreBest: e.restoreBest ?? true };
}

/**
 * Applies and checks every default of {@link TrainOptions}, checks the data against the model,
 * splits off the validation set and records the run's parameters. Touches no tensor state.
 *
 * @throws {@link ModelError} `INVALID_OPTION` naming the option, `INVALID_DATA` naming the dataset field
 * @internal
 */
export function resolveTrainOptions(
  model: tf.LayersModel,
  data: ImageDataset,
  options: TrainOptions,
): ResolvedTraining {
  checkOptionKeys(options, TRAIN_OPTION_KEYS, 'train options');
  checkOptionKeys(options.earlyStopping, EARLY_STOPPING_KEYS, 'earlyStopping');
  checkOptionKeys(options.checkpointMeta, CHECKPOINT_META_KEYS, 'checkpointMeta');
  const optimizer = options.optimizer ?? 'adam';
  if (!OPTIMIZERS.includes(optimizer))
    throw optionError('optimizer', OPTIMIZERS.map((o) => `'${o}'`).join(', '), optimizer);
  const learningRate = options.learningRate ?? 0.001;
  if (typeof learningRate !== 'number' || !(learningRate > 0) || !Number.isFinite(learningRate))
    throw optionError('learningRate', 'a positive number', learningRate);
  const momentum = options.momentum ?? 0.9;
  if (!(momentum >= 0 && momentum < 1))
    throw optionError('momentum', 'a number in [0, 1)', momentum);
  const epochs = options.epochs ?? 5;
  if (!Number.isInteger(epochs) || epochs <= 0)
    throw optionError('epochs', 'a positive integer', epochs);
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize <= 0)
    throw optionError('batchSize', 'a positive integer', batchSize);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw optionError('seed', 'an integer', seed);
  const progressEvery = options.progressEvery ?? 10;
  if (!Number.isInteger(progressEvery) || progressEvery <= 0)
    throw optionError('progressEvery', 'a positive integer', progressEvery);
  const schedule = options.schedule ?? { type: 'constant' };
  checkSchedule(schedule);
  const split = options.validationSplit ?? 0;
  if (typeof split !== 'number' || !(split >= 0 && split < 1))
    throw optionError('validationSplit', 'a number in [0, 1)', split);
  const now = options.now ?? (() => performance.now());
  const workers = resolveWorkers(options.workers);

  const input = inputSpecOf(model, options.input);
  const outShape = model.outputs[0]?.shape ?? [];
  const classes = outShape[outShape.length - 1] ?? 0;
  if (workers > 0) checkParallelModel(model, workers);
  checkDataset(data, input, 'data', classes);
  if (data.classNames.length !== classes) {
    throw new ModelError(
      'INVALID_DATA',
      `data.classNames: expected ${classes} class names (the model's outputs), got ${data.classNames.length}`,
      { data: { path: 'data.classNames' } },
    );
  }

  let trainSet = data;
  let valSet: ImageDataset | undefined = options.validationData;
  if (valSet !== undefined) checkDataset(valSet, input, 'validationData', classes);
  else if (split > 0) {
    const n = data.shape[0];
    const nVal = Math.round(n * split);
    if (nVal === 0 || nVal === n)
      throw optionError(
        'validationSplit',
        `a fraction leaving at least one image on each side of ${n}`,
        split,
      );
    trainSet = subset(data, 0, n - nVal);
    valSet = subset(data, n - nVal, n);
  }
  const earlyStopping =
    options.earlyStopping === undefined
      ? null
      : resolveEarlyStopping(options.earlyStopping, valSet !== undefined);
  trainableVariables(model);

  const shuffle = options.shuffle ?? true;
  const params: TrainingParams = {
    optimizer,
    learningRate,
    schedule: typeof schedule === 'function' ? 'custom' : schedule,
    epochs,
    batchSize,
    seed,
    shuffle,
    validationSplit: options.validationData === undefined && split > 0 ? split : null,
    earlyStopping,
    backend: '', // the runtime's, filled in by train once it is ready
    trainCount: trainSet.shape[0],
    validationCount: valSet?.shape[0] ?? 0,
  };
  if (optimizer === 'momentum') params['momentum'] = momentum;
  if (workers > 0) params['workers'] = workers;

  return {
    optimizer,
    learningRate,
    momentum,
    schedule,
    epochs,
    batchSize,
    seed,
    shuffle,
    progressEvery,
    now,
    workers,
    input,
    classes,
    trainSet,
    valSet,
    earlyStopping,
    params,
  };
}
