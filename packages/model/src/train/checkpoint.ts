import type { ImageDataset } from '@mlship/data';
import type { tf } from '@mlship/tf';
import type { DatasetRef, EpochStats } from '@mlship/core';
import { datasetRefs, saveModelDir } from '../model-dir';
import type { InputSpec } from '@mlship/core';
import type { TrainOptions, TrainingParams } from './types';

/** Saves the model directory after an epoch. @internal */
export type Checkpoint = (
  model: tf.LayersModel,
  params: TrainingParams,
  history: readonly EpochStats[],
) => Promise<void>;

/**
 * The per-epoch checkpoint of {@link train}: the model directory saved atomically over the
 * previous one, with labels defaulting to the training set's class names and datasets to the
 * fingerprints of the training (and validation) set, computed once.
 *
 * @internal
 */
export function createCheckpoint(
  dir: string,
  meta: NonNullable<TrainOptions['checkpointMeta']>,
  trainSet: ImageDataset,
  valSet: ImageDataset | undefined,
  input: InputSpec,
): Checkpoint {
  let datasets: Record<string, DatasetRef> | undefined;
  return async (model, params, history) => {
    datasets ??= datasetRefs(
      meta.datasets ??
        (valSet === undefined ? { train: trainSet } : { train: trainSet, validation: valSet }),
    );
    await saveModelDir(
      model,
      dir,
      {
        ...meta,
        labels: meta.labels ?? trainSet.classNames,
        input: meta.input ?? input,
        training: params,
        history: [...history],
        datasets,
      },
      { overwrite: true },
    );
  };
}
