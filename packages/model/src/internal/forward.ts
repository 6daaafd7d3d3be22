import type { ImageDataset } from '@mlship/data';
import { tf } from '@mlship/tf';
import type { InputSpec } from '@mlship/core';
import { fillImages } from './data';

/**
 * Runs the model (inference mode) over `ds` in batches and hands each batch's probabilities to
 * `visit` as a flat Float32Array (`count * classes`). Only one batch of tensors is alive at a time.
 *
 * @internal
 */
export async function forwardBatches(
  model: tf.LayersModel,
  ds: ImageDataset,
  input: InputSpec,
  batchSize: number,
  visit: (probs: Float32Array, start: number, count: number, classes: number) => void,
): Promise<void> {
  const n = ds.shape[0];
  const size = ds.shape[1] * ds.shape[2] * ds.shape[3];
  const buf = new Float32Array(Math.min(batchSize, n) * size);
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const view = count * size === buf.length ? buf : buf.subarray(0, count * size);
    fillImages(ds, null, start, count, input, view);
    const probs = tf.tidy(() => {
      const x = tf.tensor4d(view, [count, ds.shape[1], ds.shape[2], ds.shape[3]], 'float32');
      return model.predict(x) as tf.Tensor;
    });
    try {
      const data = (await probs.data()) as Float32Array;
      visit(data, start, count, probs.shape[probs.shape.length - 1] ?? 0);
    } finally {
      probs.dispose();
    }
  }
}

/** Keras' clipping epsilon for cross-entropy on probabilities. @internal */
export const EPSILON = 1e-7;
