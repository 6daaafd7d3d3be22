import type { ImageDataset } from '@mlship/data';
import type { tf } from '@mlship/tf';
import { ModelError } from './errors';
import { checkDataset, inputSpecOf } from './internal/data';
import { checkOptionKeys, keysOf, positiveIntOption } from './internal/options';
import { ensureRuntime } from './internal/runtime';
import { forwardBatches } from './internal/forward';
import type { ModelMeta } from './meta';

/** One class and its probability. */
export interface ClassProbability {
  /** Class name. */
  label: string;
  /** Softmax probability. */
  probability: number;
}

/** The prediction for one image. */
export interface Prediction {
  /** Name of the most probable class. */
  label: string;
  /** Index of the most probable class. */
  classIndex: number;
  /** Its probability. */
  probability: number;
  /** The `topK` most probable classes, most probable first. */
  topK: ClassProbability[];
}

/** Images to predict: a dataset (labels ignored) or raw NHWC pixels with their shape. */
export type PredictInput =
  | ImageDataset
  | { images: Uint8Array | Float32Array; shape: readonly [number, number, number, number] };

/** Options of {@link predict}. */
export interface PredictOptions {
  /** How many classes to list per image (default 3, capped at the class count). */
  topK?: number;
  /** Images per forward pass (default 256): memory stays bounded for any number of images. */
  batchSize?: number;
  /** Metadata of the model (from {@link loadModelDir}): gives the labels and input scaling. */
  meta?: Pick<ModelMeta, 'labels' | 'input'>;
  /** Class names when `meta` is not given (default: the dataset's `classNames`, else `'0'`, `'1'`, ...). */
  labels?: readonly string[];
}

const PREDICT_OPTION_KEYS = keysOf<PredictOptions>({
  topK: true,
  batchSize: true,
  meta: true,
  labels: true,
});

/**
 * Classifies images in batches (inference mode, no tensors left behind).
 *
 * @param model - the classifier
 * @param images - an {@link ImageDataset} or `{images, shape}` (Uint8 pixels are scaled by the model's input spec)
 * @param options - `topK`, `batchSize`, `meta` (labels + input scaling), `labels`
 * @returns one {@link Prediction} per image, in order
 * @throws {@link ModelError} `INVALID_DATA` when the images do not fit the model, `INVALID_OPTION` for a bad option
 * @example
 * ```ts
 * const { model, meta } = await loadModelDir('./models/cnn-v1');
 * const [first] = await predict(model, testSet, { meta, topK: 2 });
 * console.log(first.label, first.probability);
 * ```
 */
export async function predict(
  model: tf.LayersModel,
  images: PredictInput,
  options: PredictOptions = {},
): Promise<Prediction[]> {
  checkOptionKeys(options, PREDICT_OPTION_KEYS, 'predict options');
  const input = inputSpecOf(model, options.meta?.input);
  const batchSize = positiveIntOption(options.batchSize, 'batchSize', 256);
  const topK = positiveIntOption(options.topK, 'topK', 3);
  const ds: ImageDataset = {
    images: images.images,
    shape: images.shape,
    labels: new Int32Array(0),
    classNames: 'classNames' in images ? images.classNames : [],
  };
  checkDataset(ds, input, 'images', undefined, false);
  const outShape = model.outputs[0]?.shape ?? [];
  const classes = outShape[outShape.length - 1] ?? 0;
  const labels =
    options.meta?.labels ??
    options.labels ??
    (ds.classNames.length === classes
      ? ds.classNames
      : Array.from({ length: classes }, (_, i) => String(i)));
  if (labels.length !== classes) {
    throw new ModelError(
      'INVALID_OPTION',
      `labels: expected ${classes} class names (the model's outputs), got ${labels.length}`,
      { data: { path: 'labels' } },
    );
  }
  await ensureRuntime('predict');
  const k = Math.min(topK, classes);
  const out: Prediction[] = [];
  await forwardBatches(model, ds, input, batchSize, (probs, _start, count, width) => {
    const idx = Array.from({ length: width }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const row = i * width;
      const order = idx.slice().sort((a, b) => probs[row + b]! - probs[row + a]!);
      const top = order
        .slice(0, k)
        .map((c) => ({ label: labels[c]!, probability: probs[row + c]! }));
      const best = order[0]!;
      out.push({
        label: labels[best]!,
        classIndex: best,
        probability: probs[row + best]!,
        topK: top,
      });
    }
  });
  return out;
}
