import type { ImageDataset } from '@mlship/data';
import type { EpochStats } from '@mlship/core';
import type { ModelMetaInput } from '../model-dir';
import type { InputSpec } from '@mlship/core';
import type { LearningRateSchedule } from './schedule';

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
   * Returning (or resolving to) `'stop'` ends training after this epoch, with the model as it is
   * (a wall-clock budget, a target accuracy reached); `stoppedEarly` is then true.
   */
  onEpochEnd?: (stats: EpochStats) => void | 'stop' | Promise<void | 'stop'>;
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
  /** Whether early stopping, or `onEpochEnd` returning `'stop'`, ended the run before `epochs`. */
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
