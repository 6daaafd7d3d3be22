import type { ImageDataset } from '@mlship/data';
import type { ParallelTrainer } from '@mlship/tf';
import { isTfError, tf } from '@mlship/tf';
import { ModelError } from './errors';
import {
  checkDataset,
  imageBatch,
  inputSpecOf,
  labelBatch,
  permutation,
  seededRandom,
  subset,
} from './internal/data';
import { EPSILON, forwardBatches } from './internal/forward';
import {
  ABORTED,
  SharedBatch,
  checkParallelModel,
  lendOptimizer,
  resolveWorkers,
  startTrainer,
} from './internal/parallel';
import type { DatasetRef, EpochStats } from './meta';
import type { ModelMetaInput } from './model-dir';
import { datasetRefs, saveModelDir } from './model-dir';
import type { LearningRateSchedule } from './schedule';
import { checkSchedule, learningRateAt } from './schedule';
import type { InputSpec } from './spec';

/** Optimizers {@link train} can create. */
export type OptimizerName = 'adam' | 'sgd' | 'momentum' | 'rmsprop' | 'adamax' | 'adagrad';

/** The metrics early stopping can watch. */
export type MonitorName = 'loss' | 'accuracy' | 'valLoss' | 'valAccuracy';

/** Early stopping: stop when `monitor` has not improved by more than `minDelta` for `patience` epochs. */
export interface EarlyStoppingOptions {
  /** What to watch (default `'valLoss'` with validation data, else `'loss'`); losses must fall, accuracies rise. */
  monitor?: MonitorName;
  /** Epochs in a row without improvement after which training stops (default 3; 0 stops at the first). */
  patience?: number;
  /** Smallest change that counts as improvement (default 0). */
  minDelta?: number;
  /** At the end, put back the weights of the best epoch (default true). */
  restoreBest?: boolean;
}

/** A progress event, emitted every `progressEvery` batches and after each epoch's last batch. */
export interface TrainProgress {
  /** 1-based epoch. */
  epoch: number;
  /** Total epochs planned. */
  epochs: number;
  /** 1-based batch within the epoch. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** Loss of this batch. */
  loss: number;
  /** Accuracy of this batch. */
  accuracy: number;
  /** Mean loss over the epoch so far. */
  epochLoss: number;
  /** Accuracy over the epoch so far. */
  epochAccuracy: number;
  /** Images seen in this epoch so far. */
  images: number;
  /** Learning rate of this epoch. */
  learningRate: number;
}

/** Options of {@link train}. Every field has a default. */
export interface TrainOptions {
  /** Optimizer (default `'adam'`). */
  optimizer?: OptimizerName;
  /** Initial learning rate (default 0.001). */
  learningRate?: number;
  /** Momentum of the `'momentum'` optimizer (default 0.9). */
  momentum?: number;
  /** Learning-rate schedule (default constant). */
  schedule?: LearningRateSchedule;
  /** Passes over the training data (default 5). */
  epochs?: number;
  /** Images per step (default 32). */
  batchSize?: number;
  /** Fraction of the training set (its last images, before shuffling) held out for validation, in [0, 1) (default 0). */
  validationSplit?: number;
  /** A separate validation set (takes precedence over `validationSplit`). */
  validationData?: ImageDataset;
  /** Early stopping (default off). */
  earlyStopping?: EarlyStoppingOptions;
  /** Seed of the batch shuffling (default 0). Dropout masks are not seeded (TensorFlow.js limitation). */
  seed?: number;
  /** Shuffle the training images every epoch (default true). */
  shuffle?: boolean;
  /** How the model scales raw Uint8 pixels (default: the spec/`mlship.json` input the model was built or loaded with, else scale 1/255, offset 0). */
  input?: InputSpec;
  /** Called every `progressEvery` batches and on each epoch's last batch. */
  onProgress?: (event: TrainProgress) => void;
  /** Batches between progress events (default 10). */
  progressEvery?: number;
  /**
   * Called after each epoch (after validation and checkpointing); may be async. It may freeze or
   * unfreeze layers for the next epoch (gradual unfreezing); the optimizer state then restarts.
   */
  onEpochEnd?: (stats: EpochStats) => void | Promise<void>;
  /** Aborting stops training before the next batch with `TRAINING_ABORTED`; the checkpoint is left as it was. */
  signal?: AbortSignal;
  /** When set, the model directory is saved here (atomically) after every epoch. */
  checkpointDir?: string;
  /**
   * Metadata for the checkpoint's `mlship.json` (labels default to the training set's class names,
   * datasets to the fingerprints of the training and validation sets).
   */
  checkpointMeta?: Omit<ModelMetaInput, 'labels' | 'history' | 'training'> & {
    labels?: readonly string[];
  };
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
  /**
   * Worker threads for data-parallel training steps (default 0: every step on the calling thread).
   * With N > 0 each batch is split between the calling thread and N workers (`createParallelTrainer`
   * of @mlship/tf): each computes the gradient of its shard, the calling thread averages them and
   * applies them with train's optimizer, so a step equals the single-threaded one up to float
   * rounding (BatchNormalization normalises each shard with its own statistics). `'auto'` = available
   * parallelism - 1 (0 on a 1-core machine). The workers start once per call (about 0.5-1 s, again
   * only when the set of trainable weights changes between epochs) and are terminated when train
   * returns or throws. Pays only with idle cores: each step waits for its slowest thread.
   */
  workers?: number | 'auto';
}

/** How a run used worker threads ({@link TrainResult.parallel}). */
export interface ParallelInfo {
  /** Worker threads besides the calling thread. */
  workers: number;
  /** Milliseconds until the workers were ready, summed over every start. */
  startupMs: number;
  /** How often the workers were started: 1, plus one per change of the trainable weights between epochs. */
  starts: number;
}

/** The parameters of a run, for `mlship.json` `training`. */
export interface TrainingParams {
  [key: string]: unknown;
  optimizer: OptimizerName;
  learningRate: number;
  schedule: Exclude<LearningRateSchedule, (...args: never[]) => unknown> | 'custom';
  epochs: number;
  batchSize: number;
  seed: number;
  shuffle: boolean;
  validationSplit: number | null;
  earlyStopping: Required<EarlyStoppingOptions> | null;
  backend: string;
  trainCount: number;
  validationCount: number;
}

/** What {@link train} returns. */
export interface TrainResult {
  /** One entry per completed epoch. */
  history: EpochStats[];
  /** Whether early stopping ended the run. */
  stoppedEarly: boolean;
  /** The epoch whose weights the model holds at the end (the best one when `restoreBest` restored it). */
  finalWeightsEpoch: number;
  /** Best epoch by the early-stopping monitor, or null without early stopping. */
  bestEpoch: number | null;
  /** Parameters of the run (JSON), for `mlship.json` `training`. */
  params: TrainingParams;
  /** Worker threads used, or null when every step ran on the calling thread (`workers` 0). */
  parallel: ParallelInfo | null;
}

const OPTIMIZERS: readonly OptimizerName[] = [
  'adam',
  'sgd',
  'momentum',
  'rmsprop',
  'adamax',
  'adagrad',
];

function optionError(path: string, expected: string, got: unknown): ModelError {
  return new ModelError(
    'INVALID_OPTION',
    `${path}: expected ${expected}, got ${typeof got === 'function' ? 'a function' : JSON.stringify(got)}`,
    {
      data: { path },
    },
  );
}

function makeOptimizer(name: OptimizerName, lr: number, momentum: number): tf.Optimizer {
  switch (name) {
    case 'adam':
      return tf.train.adam(lr);
    case 'sgd':
      return tf.train.sgd(lr);
    case 'momentum':
      return tf.train.momentum(lr, momentum);
    case 'rmsprop':
      return tf.train.rmsprop(lr);
    case 'adamax':
      return tf.train.adamax(lr);
    case 'adagrad':
      return tf.train.adagrad(lr);
  }
}

function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as {
    setLearningRate?: (lr: number) => void;
    learningRate: number;
  };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  // MomentumOptimizer.dispose does not release the learning-rate scalar of its SGD base.
  const c = (optimizer as unknown as { c?: tf.Tensor }).c;
  if (c !== undefined && !c.isDisposed) c.dispose();
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Trains a classifier on an {@link ImageDataset} with a custom loop (`optimizer.minimize` per batch):
 * seeded shuffling, batch-by-batch input scaling (Uint8 images are never materialised as floats),
 * validation, early stopping, learning-rate schedules, progress events, prompt cancellation and
 * atomic per-epoch checkpoints. Tensor memory stays flat across epochs. With `workers` > 0 the
 * steps run data-parallel on worker threads (see {@link TrainOptions.workers}).
 *
 * @param model - the model (trained in place; only its trainable layers change)
 * @param data - the training set; its labels index the model's outputs
 * @param options - see {@link TrainOptions}
 * @returns per-epoch history, whether it stopped early, and the run's parameters
 * @throws {@link ModelError} `INVALID_OPTION` for bad options (also: `workers` > 0 for a model with
 *   several outputs or non-float32 weights, or workers that fail to start), `INVALID_DATA` when data does not fit the
 *   model, `TRAINING_ABORTED` when `signal` aborts (`data.history`: completed epochs), `TRAINING_DIVERGED`
 *   when the loss becomes NaN/infinite, `SAVE_FAILED` when a checkpoint cannot be written
 * @example
 * ```ts
 * const spec = defaultCnnSpec();
 * const model = buildModel(spec, { seed: 1 });
 * const { history } = await train(model, await loadMnist({ split: 'train' }), {
 *   epochs: 5, batchSize: 32, input: spec.input, validationSplit: 0.1,
 *   onProgress: (p) => console.log(p.epoch, p.batch, p.loss),
 * });
 * ```
 */
export async function train(
  model: tf.LayersModel,
  data: ImageDataset,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const optimizerName = options.optimizer ?? 'adam';
  if (!OPTIMIZERS.includes(optimizerName))
    throw optionError('optimizer', OPTIMIZERS.map((o) => `'${o}'`).join(', '), optimizerName);
  const lr0 = options.learningRate ?? 0.001;
  if (typeof lr0 !== 'number' || !(lr0 > 0) || !Number.isFinite(lr0))
    throw optionError('learningRate', 'a positive number', lr0);
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
      {
        data: { path: 'data.classNames' },
      },
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

  let early: Required<EarlyStoppingOptions> | null = null;
  if (options.earlyStopping !== undefined) {
    const e = options.earlyStopping;
    const monitor = e.monitor ?? (valSet !== undefined ? 'valLoss' : 'loss');
    if (!['loss', 'accuracy', 'valLoss', 'valAccuracy'].includes(monitor))
      throw optionError(
        'earlyStopping.monitor',
        "'loss', 'accuracy', 'valLoss' or 'valAccuracy'",
        monitor,
      );
    if ((monitor === 'valLoss' || monitor === 'valAccuracy') && valSet === undefined) {
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
    early = { monitor, patience, minDelta, restoreBest: e.restoreBest ?? true };
  }

  const trainableVariables = (): tf.Variable[] => {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    if (vars.length === 0)
      throw optionError('model', 'a model with at least one trainable layer', model.name);
    return vars;
  };
  let vars = trainableVariables();

  const params: TrainingParams = {
    optimizer: optimizerName,
    learningRate: lr0,
    schedule: typeof schedule === 'function' ? 'custom' : schedule,
    epochs,
    batchSize,
    seed,
    shuffle: options.shuffle ?? true,
    validationSplit: options.validationData === undefined && split > 0 ? split : null,
    earlyStopping: early,
    backend: tf.getBackend(),
    trainCount: trainSet.shape[0],
    validationCount: valSet?.shape[0] ?? 0,
  };
  if (optimizerName === 'momentum') params['momentum'] = momentum;
  if (workers > 0) params['workers'] = workers;

  const history: EpochStats[] = [];
  const random = seededRandom(seed);
  let optimizer = makeOptimizer(optimizerName, lr0, momentum);
  const n = trainSet.shape[0];
  const batches = Math.ceil(n / batchSize);
  let best: { epoch: number; value: number; weights: tf.Tensor[] | null } | null = null;
  let stoppedEarly = false;
  let finalWeightsEpoch = 0;
  let checkpointDatasets: Record<string, DatasetRef> | undefined;
  const aborted = (epoch: number, batch: number): ModelError =>
    new ModelError(
      'TRAINING_ABORTED',
      `training aborted in epoch ${epoch} before batch ${batch}; ${history.length} epoch(s) completed${options.checkpointDir ? `, last checkpoint at ${options.checkpointDir}` : ''}`,
      {
        cause: options.signal?.reason,
        data: { epoch, batch, history: [...history], checkpointDir: options.checkpointDir ?? null },
      },
    );

  // One optimizer step on the calling thread; resolves to the batch's loss and correct count.
  const singleStep = async (
    order: Int32Array | null,
    start: number,
    count: number,
    labels: Int32Array,
  ): Promise<[number, number]> => {
    const [loss, correct] = tf.tidy(() => {
      const x = imageBatch(trainSet, order, start, count, input);
      const y = tf.tensor1d(labels, 'int32');
      let hits: tf.Tensor | undefined;
      const cost = optimizer.minimize(
        () => {
          const probs = model.apply(x, { training: true }) as tf.Tensor2D;
          hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), y), 'float32')));
          // Cross-entropy as -log(p[label] + eps): unlike clipping, a NaN probability stays NaN,
          // so divergence is detected instead of being clipped into a finite loss.
          const pLabel = tf.sum(tf.mul(tf.oneHot(y, classes), probs), -1);
          return tf.neg(tf.mean(tf.log(tf.add(pLabel, EPSILON)))) as tf.Scalar;
        },
        true,
        vars,
      )!;
      return [cost, hits!] as const;
    });
    try {
      return [(await loss.data())[0]!, (await correct.data())[0]!];
    } finally {
      loss.dispose();
      correct.dispose();
    }
  };

  let trainer: ParallelTrainer | undefined;
  // Layer flags the running trainer's replicas were built with (a frozen BatchNormalization without
  // trainable weights changes mode without changing the trainable weights).
  const layerFlags = (): string => model.layers.map((l) => (l.trainable ? 1 : 0)).join('');
  let trainerFlags = '';
  const parallel: ParallelInfo | null = workers > 0 ? { workers, startupMs: 0, starts: 0 } : null;
  const lent = workers > 0 ? lendOptimizer(model) : undefined;
  const shared = workers > 0 ? new SharedBatch(trainSet, batchSize, classes) : undefined;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      // Re-read per epoch: onEpochEnd may freeze/unfreeze layers (gradual unfreezing). tfjs
      // optimizers key their slots by position in the variable list, so a new list needs a new optimizer.
      if (epoch > 1) {
        const next = trainableVariables();
        const changed = next.length !== vars.length || next.some((v, i) => v !== vars[i]);
        // The parallel trainer fixes which weights are trainable, and its replicas' layer flags,
        // when it starts; a change needs a new one.
        if (trainer !== undefined && (changed || layerFlags() !== trainerFlags)) {
          const old = trainer;
          trainer = undefined;
          await old.dispose();
        }
        if (changed) {
          disposeOptimizer(optimizer);
          optimizer = makeOptimizer(optimizerName, lr0, momentum);
        }
        vars = next;
      }
      if (parallel !== null && trainer === undefined) {
        if (options.signal?.aborted) throw aborted(epoch, 1);
        lent!.set(optimizer);
        trainerFlags = layerFlags();
        const t0 = now();
        const started = await startTrainer(model, workers, options.signal);
        if (started === ABORTED) throw aborted(epoch, 1);
        trainer = started;
        parallel.startupMs += Math.round(now() - t0);
        parallel.starts += 1;
      }
      const lr = learningRateAt(schedule, epoch, lr0, epochs);
      setLearningRate(optimizer, lr);
      const order = params.shuffle ? permutation(n, random) : null;
      let lossSum = 0;
      let correctSum = 0;
      let seen = 0;
      let stepMs = 0;
      for (let b = 0; b < batches; b++) {
        // Yield so an abort (timer, signal handler, other request) can run between batches.
        await nextTick();
        if (options.signal?.aborted) throw aborted(epoch, b + 1);
        const start = b * batchSize;
        const count = Math.min(batchSize, n - start);
        const t0 = now();
        const labels = labelBatch(trainSet, order, start, count);
        let lossValue: number;
        let correctValue: number;
        if (trainer !== undefined) {
          // The trainer rejects a step whose gradients are not finite without applying it (its
          // clipped cross-entropy would report a finite loss): that is this loop's divergence.
          const r = await shared!
            .step(trainer, order, start, count, labels, input)
            .catch((e: unknown) => {
              if (isTfError(e) && e.code === 'GRADIENTS_NOT_FINITE') return undefined;
              throw e;
            });
          lossValue = r === undefined ? Number.NaN : r.loss;
          correctValue = r === undefined ? 0 : Math.round(r.accuracy * count);
        } else {
          [lossValue, correctValue] = await singleStep(order, start, count, labels);
        }
        stepMs += now() - t0;
        if (!Number.isFinite(lossValue)) {
          throw new ModelError(
            'TRAINING_DIVERGED',
            `loss: expected a finite number, got ${lossValue} in epoch ${epoch}, batch ${b + 1} (learning rate ${lr}); lower the learning rate or check the data for NaN values`,
            {
              data: { epoch, batch: b + 1, history: [...history] },
            },
          );
        }
        lossSum += lossValue * count;
        correctSum += correctValue;
        seen += count;
        if (
          options.onProgress !== undefined &&
          ((b + 1) % progressEvery === 0 || b === batches - 1)
        ) {
          options.onProgress({
            epoch,
            epochs,
            batch: b + 1,
            batches,
            loss: lossValue,
            accuracy: correctValue / count,
            epochLoss: lossSum / seen,
            epochAccuracy: correctSum / seen,
            images: seen,
            learningRate: lr,
          });
        }
      }
      const seconds = stepMs / 1000;
      const stats: EpochStats = {
        epoch,
        loss: lossSum / n,
        accuracy: correctSum / n,
        learningRate: lr,
        seconds,
        imagesPerSec: seconds > 0 ? n / seconds : 0,
      };
      if (valSet !== undefined) {
        const v = await lossAndAccuracy(model, valSet, input);
        stats.valLoss = v.loss;
        stats.valAccuracy = v.accuracy;
      }
      history.push(stats);
      finalWeightsEpoch = epoch;

      let stop = false;
      if (early !== null) {
        const value = stats[early.monitor]!;
        const lower = early.monitor === 'loss' || early.monitor === 'valLoss';
        const improved =
          best === null ||
          (lower ? value < best.value - early.minDelta : value > best.value + early.minDelta);
        if (improved) {
          if (best?.weights) tf.dispose(best.weights);
          best = {
            epoch,
            value,
            weights: early.restoreBest ? model.getWeights().map((w) => tf.keep(w.clone())) : null,
          };
        } else if (epoch - best!.epoch >= early.patience) {
          stop = true;
        }
      }
      if (options.checkpointDir !== undefined) {
        const meta = options.checkpointMeta ?? {};
        checkpointDatasets ??= datasetRefs(
          meta.datasets ??
            (valSet === undefined ? { train: trainSet } : { train: trainSet, validation: valSet }),
        );
        await saveModelDir(
          model,
          options.checkpointDir,
          {
            ...meta,
            labels: meta.labels ?? trainSet.classNames,
            input: meta.input ?? input,
            training: params,
            history,
            datasets: checkpointDatasets,
          },
          { overwrite: true },
        );
      }
      await options.onEpochEnd?.(stats);
      if (stop) {
        stoppedEarly = true;
        break;
      }
    }
    if (early?.restoreBest && best?.weights && best.epoch !== finalWeightsEpoch) {
      model.setWeights(best.weights);
      finalWeightsEpoch = best.epoch;
    }
  } finally {
    if (best?.weights) tf.dispose(best.weights);
    // Workers first: the trainer applies gradients with the optimizer disposed below.
    if (trainer !== undefined) await trainer.dispose();
    lent?.restore();
    disposeOptimizer(optimizer);
  }
  return {
    history,
    stoppedEarly,
    finalWeightsEpoch,
    bestEpoch: best?.epoch ?? null,
    params,
    parallel,
  };
}

async function lossAndAccuracy(
  model: tf.LayersModel,
  ds: ImageDataset,
  input: InputSpec,
): Promise<{ loss: number; accuracy: number }> {
  let lossSum = 0;
  let correct = 0;
  await forwardBatches(model, ds, input, 256, (probs, start, count, k) => {
    for (let i = 0; i < count; i++) {
      const row = i * k;
      let best = 0;
      for (let j = 1; j < k; j++) if (probs[row + j]! > probs[row + best]!) best = j;
      const label = ds.labels[start + i]!;
      lossSum -= Math.log(Math.min(Math.max(probs[row + label]!, EPSILON), 1 - EPSILON));
      if (best === label) correct += 1;
    }
  });
  return { loss: lossSum / ds.shape[0], accuracy: correct / ds.shape[0] };
}
