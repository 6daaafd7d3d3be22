import type { ImageDataset } from '@mlship/data';
import { tf } from '@mlship/tf';
import { ModelError } from '../errors';
import { createRng, permutation } from '@mlship/core';
import { labelBatch } from '../internal/data';
import { ensureRuntime } from '../internal/runtime';
import type { EpochStats } from '@mlship/core';
import { createCheckpoint } from './checkpoint';
import { EarlyStopping } from './early-stopping';
import { LocalStepper } from './local-stepper';
import { Trainables } from './optimizer';
import type { ResolvedTraining } from './options';
import { resolveTrainOptions } from './options';
import { ParallelStepper } from './parallel-stepper';
import { learningRateAt } from './schedule';
import type { Stepper } from './stepper';
import type { TrainOptions, TrainResult } from './types';
import { lossAndAccuracy } from './validate';

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One pass over the training set; resolves to the epoch's stats before validation. */
async function runEpoch(
  run: ResolvedTraining,
  stepper: Stepper,
  options: TrainOptions,
  epoch: number,
  lr: number,
  order: Uint32Array | null,
  aborted: (epoch: number, batch: number) => ModelError,
  history: readonly EpochStats[],
): Promise<EpochStats> {
  const { trainSet, batchSize, epochs, progressEvery, now } = run;
  const n = trainSet.shape[0];
  const batches = Math.ceil(n / batchSize);
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
    const { loss, correct } = await stepper.step(order, start, count, labels);
    stepMs += now() - t0;
    if (!Number.isFinite(loss)) {
      throw new ModelError(
        'TRAINING_DIVERGED',
        `loss: expected a finite number, got ${loss} in epoch ${epoch}, batch ${b + 1} (learning rate ${lr}); lower the learning rate or check the data for NaN values`,
        { data: { epoch, batch: b + 1, history: [...history] } },
      );
    }
    lossSum += loss * count;
    correctSum += correct;
    seen += count;
    if (options.onProgress !== undefined && ((b + 1) % progressEvery === 0 || b === batches - 1)) {
      options.onProgress({
        epoch,
        epochs,
        batch: b + 1,
        batches,
        loss,
        accuracy: correct / count,
        epochLoss: lossSum / seen,
        epochAccuracy: correctSum / seen,
        images: seen,
        learningRate: lr,
      });
    }
  }
  const seconds = stepMs / 1000;
  return {
    epoch,
    loss: lossSum / n,
    accuracy: correctSum / n,
    learningRate: lr,
    seconds,
    imagesPerSec: seconds > 0 ? n / seconds : 0,
  };
}

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
  const run = resolveTrainOptions(model, data, options);
  await ensureRuntime('train');
  run.params.backend = tf.getBackend();
  const { trainSet, valSet, input, params } = run;
  const history: EpochStats[] = [];
  const random = createRng(run.seed);
  const n = trainSet.shape[0];
  const aborted = (epoch: number, batch: number): ModelError =>
    new ModelError(
      'TRAINING_ABORTED',
      `training aborted in epoch ${epoch} before batch ${batch}; ${history.length} epoch(s) completed${options.checkpointDir ? `, last checkpoint at ${options.checkpointDir}` : ''}`,
      {
        cause: options.signal?.reason,
        data: { epoch, batch, history: [...history], checkpointDir: options.checkpointDir ?? null },
      },
    );
  const checkpoint =
    options.checkpointDir === undefined
      ? undefined
      : createCheckpoint(
          options.checkpointDir,
          options.checkpointMeta ?? {},
          trainSet,
          valSet,
          input,
        );
  const trainables = new Trainables(model, run.optimizer, run.learningRate, run.momentum);
  const early =
    run.earlyStopping === null ? undefined : new EarlyStopping(model, run.earlyStopping);
  const parallel =
    run.workers > 0
      ? new ParallelStepper(
          model,
          trainSet,
          input,
          run.batchSize,
          run.classes,
          run.workers,
          trainables,
          options.signal,
          run.now,
        )
      : undefined;
  const stepper: Stepper = parallel ?? new LocalStepper(model, trainSet, input, trainables);
  let stoppedEarly = false;
  let finalWeightsEpoch = 0;
  try {
    for (let epoch = 1; epoch <= run.epochs; epoch++) {
      // Re-read per epoch: onEpochEnd may freeze/unfreeze layers (gradual unfreezing).
      const changed = epoch > 1 && trainables.refresh();
      if (!(await stepper.beginEpoch(changed))) throw aborted(epoch, 1);
      const lr = learningRateAt(run.schedule, epoch, run.learningRate, run.epochs);
      trainables.setLearningRate(lr);
      const order = run.shuffle ? permutation(n, random) : null;
      const stats = await runEpoch(run, stepper, options, epoch, lr, order, aborted, history);
      if (valSet !== undefined) {
        const v = await lossAndAccuracy(model, valSet, input);
        stats.valLoss = v.loss;
        stats.valAccuracy = v.accuracy;
      }
      history.push(stats);
      finalWeightsEpoch = epoch;
      const stop = early?.onEpochEnd(stats) ?? false;
      await checkpoint?.(model, params, history);
      const requested = await options.onEpochEnd?.(stats);
      if (stop || (requested === 'stop' && epoch < run.epochs)) {
        stoppedEarly = true;
        break;
      }
    }
    if (early !== undefined) finalWeightsEpoch = early.restoreBest(finalWeightsEpoch);
  } finally {
    early?.dispose();
    await stepper.dispose();
    trainables.dispose();
  }
  return {
    history,
    stoppedEarly,
    finalWeightsEpoch,
    bestEpoch: early?.bestEpoch ?? null,
    params,
    parallel: parallel?.info ?? null,
  };
}
