import type { ImageDataset } from '@mlship/data';
import { slice, toFloat32 } from '@mlship/data';
import type { InputSpec } from '@mlship/model';
import { tf } from '@mlship/tf';
import { TransferError } from './errors';
import { modelLayers } from './selection';

/** The model split at a layer: the frozen part feeding the cache, and the rest on cached inputs. @internal */
export interface SplitModel {
  /** Input image -> output of the cut layer (shares the model's layers). */
  features: tf.LayersModel;
  /** Cached features -> class probabilities (shares the model's layers after the cut). */
  head: tf.LayersModel;
  /** Shape of one cached example as an image-like `[h, w, c]` (a vector of d is `[1, 1, d]`). */
  shape: [number, number, number];
}

/**
 * Splits a linear model after `cut`. Both parts reuse the model's own layer objects, so training
 * the head trains the model's layers in place: the full model is reassembled by construction.
 * Never dispose the parts (that would dispose the model's weights).
 *
 * @internal
 */
export function splitAt(model: tf.LayersModel, cut: tf.layers.Layer): SplitModel {
  const layers = modelLayers(model);
  const at = layers.indexOf(cut);
  for (const layer of layers) {
    if (layer.inboundNodes.length !== 1) {
      throw new TransferError(
        'INVALID_STRATEGY',
        `strategy.layers: featureCache needs a model whose layers form one chain; layer ${JSON.stringify(layer.name)} is used ${layer.inboundNodes.length} times`,
        { data: { path: 'strategy.layers', layer: layer.name } },
      );
    }
  }
  const cutOutput = cut.getOutputAt(0) as tf.SymbolicTensor;
  const features = tf.model({ inputs: model.inputs, outputs: cutOutput, name: 'cached_part' });
  const outShape = cutOutput.shape.slice(1);
  if (outShape.some((d) => d === null) || (outShape.length !== 1 && outShape.length !== 3)) {
    throw new TransferError(
      'INVALID_STRATEGY',
      `strategy.layers: featureCache needs the last frozen layer to output a vector or an image-like [h, w, c] tensor; ${JSON.stringify(cut.name)} outputs [${outShape.join(', ')}]`,
      { data: { path: 'strategy.layers', layer: cut.name } },
    );
  }
  const shape = (outShape.length === 1 ? [1, 1, outShape[0]] : outShape) as [
    number,
    number,
    number,
  ];
  const input = tf.input({ shape, name: 'cached_features', dtype: 'float32' });
  // A vector travels as [1, 1, d] (the ImageDataset shape train() takes); flatten it back.
  let x: tf.SymbolicTensor =
    outShape.length === 1
      ? (tf.layers.flatten({ name: 'cached_flatten' }).apply(input) as tf.SymbolicTensor)
      : input;
  for (const layer of layers.slice(at + 1)) x = layer.apply(x) as tf.SymbolicTensor;
  const head = tf.model({ inputs: input, outputs: x, name: 'trained_part' });
  return { features, head, shape };
}

/**
 * Runs the frozen part over a dataset once (inference mode, batch by batch) and returns its outputs
 * as a Float32 dataset of shape `[n, ...shape]` with the same labels and class names.
 *
 * @internal
 */
export async function cacheFeatures(
  features: tf.LayersModel,
  shape: readonly [number, number, number],
  ds: ImageDataset,
  input: InputSpec,
  batchSize: number,
  signal: AbortSignal | undefined,
): Promise<ImageDataset> {
  const n = ds.shape[0];
  const size = shape[0] * shape[1] * shape[2];
  const out = new Float32Array(n * size);
  for (let start = 0; start < n; start += batchSize) {
    if (signal?.aborted) {
      throw new TransferError(
        'ABORTED',
        `aborted while caching features at image ${start} of ${n}`,
        {
          cause: signal.reason,
        },
      );
    }
    const end = Math.min(n, start + batchSize);
    const part = slice(ds, start, end);
    const pixels =
      part.images instanceof Float32Array
        ? part.images
        : (toFloat32(part, { scale: input.scale, offset: input.offset }).images as Float32Array);
    const y = tf.tidy(() =>
      features.predict(
        tf.tensor4d(pixels, [end - start, ds.shape[1], ds.shape[2], ds.shape[3]], 'float32'),
      ),
    ) as tf.Tensor;
    try {
      out.set(await y.data(), start * size);
    } finally {
      y.dispose();
    }
  }
  return {
    images: out,
    shape: [n, shape[0], shape[1], shape[2]],
    labels: ds.labels,
    classNames: ds.classNames,
  };
}
