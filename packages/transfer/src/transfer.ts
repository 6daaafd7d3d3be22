import type { ImageDataset } from '@mlship/data';
import type {
  EpochStats,
  InputSpec,
  ModelMetaInput,
  ModelSpec,
  OptimizerName,
  ParentRef,
  SavedModelDir,
  TrainProgress,
  TrainResult,
} from '@mlship/model';
import { evaluate, saveModelDir, train, unfreeze } from '@mlship/model';
import type { tf } from '@mlship/tf';
import type { BaseModel, TransferBase } from './base';
import { loadBase } from './base';
import { TransferError, asTransferError, checkKeys, optionError } from './errors';
import { cacheFeatures, splitAt } from './feature-cache';
import type { ParameterCounts } from './prepare';
import { countParameters, prepareModel } from './prepare';
import type { Strategy } from './strategy';
import { strategyLabel, validateStrategy, withDefaults } from './strategy';

/** How much training every strategy gets: a number of epochs, or wall-clock seconds. */
export type Budget =
  | { epochs: number }
  | {
      /** Wall seconds from the start of the run (preparation and feature caching included). */
      seconds: number;
      /** Upper bound on epochs (default 1000). */
      maxEpochs?: number;
    };

/** The data of a transfer run: the target's training set, and optionally validation and test sets. */
export interface TransferData {
  /** What the model trains on. */
  train: ImageDataset;
  /** Evaluated after every epoch (`valAccuracy`, `valLoss`, time-to-accuracy). */
  validation?: ImageDataset;
  /** Evaluated once at the end (`test` accuracy and loss, recorded as the model's metrics). */
  test?: ImageDataset;
}

/** One epoch of a transfer run: @mlship/model's `EpochStats` plus when it ended. */
export interface TransferEpoch extends EpochStats {
  /** Wall seconds from the start of the run to the end of this epoch's validation. */
  elapsed: number;
  /** twoPhase: 1 (head) or 2 (everything); 1 for every other strategy. */
  phase: 1 | 2;
}

/** Options of {@link transfer}. Every field has a default. */
export interface TransferOptions {
  /** Seed of fresh weights (scratch, replaceHead) and of the batch order (default 0). */
  seed?: number;
  /** Training budget (default `{ epochs: 5 }`). */
  budget?: Budget;
  /** Images per step (default 32). */
  batchSize?: number;
  /** Learning rate unless the strategy sets its own (default 0.001). */
  learningRate?: number;
  /** Optimizer (default `'adam'`). */
  optimizer?: OptimizerName;
  /** Worker threads of @mlship/model's `train` (default 0; `'auto'` = cores - 1). */
  workers?: number | 'auto';
  /** Aborting stops the run with `ABORTED` (no model is saved). */
  signal?: AbortSignal;
  /** Training progress of @mlship/model's `train` (every `progressEvery` batches). */
  onProgress?: (event: TrainProgress) => void;
  /** Batches between progress events (default 50). */
  progressEvery?: number;
  /** Called after every epoch. */
  onEpochEnd?: (epoch: TransferEpoch) => void;
  /** Save the resulting model directory here (atomically, through @mlship/model's `saveModelDir`). */
  outDir?: string;
  /** Replace an existing `outDir` (default false). */
  overwrite?: boolean;
  /** Name of the resulting model (default: the base's). */
  name?: string;
  /** What the resulting model records as `parent` (default: the base's, see `loadBase`). */
  parent?: ParentRef;
  /** For a bare LayersModel base: its input scaling (default scale 1/255). */
  input?: InputSpec;
  /** For a bare LayersModel base: its spec, recorded in `mlship.json`. */
  spec?: ModelSpec | null;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

/** What {@link transfer} returns. */
export interface TransferResult {
  /** The trained model (the caller disposes it). */
  model: tf.LayersModel;
  /** The strategy with its defaults and run-dependent values written out (as recorded). */
  strategy: Strategy;
  /** The strategy's label (`name`, else `kind`). */
  label: string;
  /** Seed of the run. */
  seed: number;
  /** Per-epoch statistics. */
  history: TransferEpoch[];
  /** Parameter counts at the start of training. */
  parameters: ParameterCounts;
  /** twoPhase: the counts of phase 2 (everything trainable); null otherwise. */
  phase2Parameters: ParameterCounts | null;
  /** Layers frozen at the start. */
  frozenLayers: string[];
  /** Wall seconds of the whole run (preparation, caching, training and validation; not the test). */
  seconds: number;
  /** Wall seconds spent before the first epoch (copying the base, caching features). */
  prepareSeconds: number;
  /** Mean training-step seconds per epoch (validation excluded), as the bench measures. */
  epochSeconds: number;
  /** Images trained on (epochs x training set) per wall second of the run. */
  imagesPerSec: number;
  /** Accuracy and loss on `data.test`, or null without a test set. */
  test: { accuracy: number; loss: number } | null;
  /** The training parameters recorded in `mlship.json` `training`. */
  training: Record<string, unknown>;
  /** What `mlship.json` holds (or would hold) for the model. */
  meta: ModelMetaInput;
  /** The saved directory, when `outDir` was given. */
  saved: SavedModelDir | null;
}

const OPTION_KEYS = [
  'seed',
  'budget',
  'batchSize',
  'learningRate',
  'optimizer',
  'workers',
  'signal',
  'onProgress',
  'progressEvery',
  'onEpochEnd',
  'outDir',
  'overwrite',
  'name',
  'parent',
  'input',
  'spec',
  'now',
];

/**
 * Checks a budget: `{ epochs }` (a positive integer) or `{ seconds, maxEpochs? }`.
 *
 * @param value - the budget
 * @param path - its field path for messages (default `'budget'`)
 * @returns the value typed as a budget
 * @throws {@link TransferError} `INVALID_OPTION` naming the field
 * @example
 * ```ts
 * validateBudget({ seconds: 60 });
 * ```
 */
export function validateBudget(value: unknown, path = 'budget'): Budget {
  const v = value as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw optionError(path, '{ epochs } or { seconds, maxEpochs? }', value);
  }
  if ('epochs' in v) {
    checkKeys(v, ['epochs'], path);
    if (!Number.isInteger(v['epochs']) || (v['epochs'] as number) <= 0) {
      throw optionError(`${path}.epochs`, 'a positive integer', v['epochs']);
    }
    return v as Budget;
  }
  checkKeys(v, ['seconds', 'maxEpochs'], path);
  const s = v['seconds'];
  if (typeof s !== 'number' || !Number.isFinite(s) || !(s > 0)) {
    throw optionError(`${path}.seconds`, 'a positive number (or use { epochs })', s);
  }
  const max = v['maxEpochs'];
  if (max !== undefined && (!Number.isInteger(max) || (max as number) <= 0)) {
    throw optionError(`${path}.maxEpochs`, 'a positive integer', max);
  }
  return v as Budget;
}

function checkData(data: TransferData, base: TransferBase): void {
  checkKeys(data, ['train', 'validation', 'test'], 'data');
  if (data?.train === undefined) throw optionError('data.train', 'an ImageDataset', undefined);
  const [h, w, c] = base.input.shape;
  for (const role of ['train', 'validation', 'test'] as const) {
    const ds = data[role];
    if (ds === undefined) continue;
    if (!Array.isArray(ds.shape) || ds.shape.length !== 4 || !ds.images || !ds.labels) {
      throw optionError(`data.${role}`, 'an ImageDataset', ds);
    }
    const [, dh, dw, dc] = ds.shape;
    if (dh !== h || dw !== w || dc !== c) {
      throw new TransferError(
        'INCOMPATIBLE_DATA',
        `data.${role}.shape: expected [n, ${h}, ${w}, ${c}] (the base model's input), got [${ds.shape.join(', ')}]`,
        { data: { path: `data.${role}.shape` } },
      );
    }
    if (role !== 'train' && ds.classNames.length !== data.train.classNames.length) {
      throw new TransferError(
        'INCOMPATIBLE_DATA',
        `data.${role}.classNames: expected ${data.train.classNames.length} classes (as data.train), got ${ds.classNames.length}`,
        { data: { path: `data.${role}.classNames` } },
      );
    }
  }
}

/**
 * Applies a transfer strategy to a base model and trains the result on the target data within a
 * budget: `scratch` (same topology, fresh seeded weights), `fineTune` (the base's weights, every
 * layer trained), `freeze` (selected layers frozen), `replaceHead` (new output size, fresh head),
 * `twoPhase` (head first, then everything at a lower rate) or `featureCache` (the frozen prefix
 * run once, the rest trained on its cached outputs). Frozen BatchNormalization layers keep their
 * moving statistics. The base is never changed. With `outDir` the model directory is saved with
 * the strategy (and its options), the parent and the datasets' fingerprints in `mlship.json`.
 *
 * @param base - a model directory, a LayersModel, or a base from {@link loadBase}
 * @param strategy - the strategy (JSON, see {@link Strategy})
 * @param data - `train`, and optionally `validation` (per epoch) and `test` (at the end)
 * @param options - seed, budget, batchSize, learningRate, optimizer, workers, signal, callbacks, outDir, ...
 * @returns the trained model, per-epoch history, parameter counts, timings, test metrics, metadata
 * @throws {@link TransferError} `INVALID_STRATEGY` (malformed, or a selection naming no layer of the
 *   base), `INVALID_OPTION`, `INCOMPATIBLE_DATA` (input shape or class count), `ABORTED`,
 *   `TRAINING_DIVERGED`, `NOT_A_MODEL_DIR` / `INVALID_META` / `INTEGRITY` / `LOAD_FAILED` (base
 *   directory), `SAVE_FAILED`
 * @example
 * ```ts
 * const result = await transfer('./models/cnn-v1', { kind: 'freeze', layers: { type: 'conv2d' } },
 *   { train, validation, test }, { budget: { epochs: 3 }, seed: 1, outDir: './models/cnn-v2' });
 * console.log(result.test?.accuracy, result.parameters);
 * result.model.dispose();
 * ```
 */
export async function transfer(
  base: BaseModel,
  strategy: Strategy,
  data: TransferData,
  options: TransferOptions = {},
): Promise<TransferResult> {
  checkKeys(options, OPTION_KEYS, 'transfer options');
  const now = options.now ?? (() => performance.now());
  const t0 = now();
  const valid = withDefaults(validateStrategy(strategy));
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw optionError('seed', 'an integer', seed);
  const budget = validateBudget(options.budget ?? { epochs: 5 });
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw optionError('batchSize', 'a positive integer', batchSize);
  }
  const baseRate = options.learningRate ?? 0.001;
  if (typeof baseRate !== 'number' || !(baseRate > 0) || !Number.isFinite(baseRate)) {
    throw optionError('learningRate', 'a positive number', baseRate);
  }
  const learningRate = valid.learningRate ?? baseRate;
  const isEpochs = 'epochs' in budget;
  if (valid.kind === 'twoPhase' && isEpochs && budget.epochs < 2) {
    throw optionError('budget.epochs', 'at least 2 for a twoPhase strategy (one per phase)', 1);
  }

  const owned = typeof base === 'string';
  const loaded = await loadBase(base, {
    ...(options.parent === undefined ? {} : { parent: options.parent }),
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(options.spec === undefined ? {} : { spec: options.spec }),
  });
  let model: tf.LayersModel | undefined;
  try {
    checkData(data, loaded);
    const classes = data.train.classNames.length;
    const prepared = await prepareModel(loaded, valid, { seed, classes, path: 'strategy' });
    model = prepared.model;
    const recorded: Strategy =
      valid.kind === 'replaceHead'
        ? { ...valid, classes: prepared.classes, learningRate }
        : valid.kind === 'twoPhase'
          ? {
              ...valid,
              learningRate,
              fineTuneLearningRate: valid.fineTuneLearningRate ?? learningRate / 10,
            }
          : { ...valid, learningRate };
    const parameters = countParameters(model);
    const input = loaded.input;
    const history: TransferEpoch[] = [];
    let phase: 1 | 2 = 1;
    let phase2From: number | null = null;
    let phase2Parameters: ParameterCounts | null = null;
    const fineRate =
      valid.kind === 'twoPhase' ? (valid.fineTuneLearningRate ?? learningRate / 10) : learningRate;
    const share = valid.kind === 'twoPhase' ? (valid.headShare ?? 0.5) : 1;
    const phase1Epochs = isEpochs
      ? Math.min(budget.epochs - 1, Math.max(1, Math.round(share * budget.epochs)))
      : Infinity;
    const epochs = isEpochs ? budget.epochs : (budget.maxEpochs ?? 1000);

    let trainSet = data.train;
    let validation = data.validation;
    let trainModel = model;
    let trainInput = input;
    if (prepared.cut !== undefined) {
      const split = splitAt(model, prepared.cut);
      trainSet = await cacheFeatures(
        split.features,
        split.shape,
        data.train,
        input,
        256,
        options.signal,
      );
      if (validation !== undefined) {
        validation = await cacheFeatures(
          split.features,
          split.shape,
          validation,
          input,
          256,
          options.signal,
        );
      }
      trainModel = split.head;
      trainInput = { shape: split.shape, dtype: 'float32', scale: 1, offset: 0 };
    }
    const prepareSeconds = (now() - t0) / 1000;

    const onEpochEnd = (stats: EpochStats): 'stop' | undefined => {
      const elapsed = (now() - t0) / 1000;
      const previous = history.length === 0 ? prepareSeconds : history[history.length - 1]!.elapsed;
      const entry: TransferEpoch = { ...stats, elapsed, phase };
      history.push(entry);
      options.onEpochEnd?.(entry);
      if (valid.kind === 'twoPhase' && phase === 1) {
        const switchNow = isEpochs
          ? stats.epoch >= phase1Epochs
          : elapsed >= share * (budget as { seconds: number }).seconds;
        if (switchNow) {
          unfreeze(model!, prepared.frozen);
          phase = 2;
          phase2From = stats.epoch + 1;
          phase2Parameters = countParameters(model!);
        }
      }
      if (!isEpochs && elapsed + (elapsed - previous) > budget.seconds) return 'stop';
      return undefined;
    };

    let result: TrainResult;
    try {
      result = await train(trainModel, trainSet, {
        epochs,
        batchSize,
        learningRate,
        optimizer: options.optimizer ?? 'adam',
        seed,
        input: trainInput,
        workers: options.workers ?? 0,
        progressEvery: options.progressEvery ?? 50,
        schedule: (epoch: number, initial: number) =>
          phase2From !== null && epoch >= phase2From ? fineRate : initial,
        ...(validation === undefined ? {} : { validationData: validation }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
        onEpochEnd,
      });
    } catch (e) {
      throw asTransferError(e, 'INVALID_DATA', `training strategy ${strategyLabel(valid)}`);
    }
    const seconds = (now() - t0) / 1000;

    let test: TransferResult['test'] = null;
    if (data.test !== undefined) {
      try {
        const ev = await evaluate(model, data.test, { input });
        test = { accuracy: ev.accuracy, loss: ev.loss };
      } catch (e) {
        throw asTransferError(e, 'INVALID_DATA', 'evaluating on data.test');
      }
    }

    const trained = history.length * data.train.shape[0];
    const training: Record<string, unknown> = {
      ...result.params,
      // What the strategy trained, not the cached head's view of it.
      epochs: history.length,
      schedule:
        valid.kind === 'twoPhase'
          ? { type: 'twoPhase', phase2From, fineTuneLearningRate: fineRate }
          : { type: 'constant' },
      trainCount: data.train.shape[0],
      validationCount: data.validation?.shape[0] ?? 0,
      budget,
      transfer: {
        strategy: strategyLabel(valid),
        frozenLayers: prepared.frozen,
        parameters,
        phase2Parameters,
        seconds,
        prepareSeconds,
      },
    };
    const meta: ModelMetaInput = {
      name: options.name ?? loaded.name,
      labels: [...data.train.classNames],
      input,
      spec: prepared.spec,
      training,
      history: history.map(({ elapsed: _e, phase: _p, ...stats }) => stats),
      metrics: test === null ? {} : { accuracy: test.accuracy, loss: test.loss },
      ...(test === null ? {} : { metricsDataset: 'test' }),
      datasets: {
        train: data.train,
        ...(data.validation === undefined ? {} : { validation: data.validation }),
        ...(data.test === undefined ? {} : { test: data.test }),
      },
      parent: loaded.parent,
      strategy: recorded as unknown as Record<string, unknown>,
    };
    let saved: SavedModelDir | null = null;
    if (options.outDir !== undefined) {
      try {
        saved = await saveModelDir(model, options.outDir, meta, {
          overwrite: options.overwrite ?? false,
        });
      } catch (e) {
        throw asTransferError(e, 'SAVE_FAILED', `saving ${options.outDir}`);
      }
    }
    const epochSeconds =
      history.length === 0 ? 0 : history.reduce((a, h) => a + h.seconds, 0) / history.length;
    const out: TransferResult = {
      model,
      strategy: recorded,
      label: strategyLabel(valid),
      seed,
      history,
      parameters,
      phase2Parameters,
      frozenLayers: prepared.frozen,
      seconds,
      prepareSeconds,
      epochSeconds,
      imagesPerSec: seconds > 0 ? trained / seconds : 0,
      test,
      training,
      meta,
      saved,
    };
    model = undefined; // handed to the caller
    return out;
  } finally {
    model?.dispose();
    if (owned) loaded.model.dispose();
  }
}
