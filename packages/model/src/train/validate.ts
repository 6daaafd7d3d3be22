import type { ImageDataset } from '@mlship/data';
import type { tf } from '@mlship/tf';
import { EPSILON, forwardBatches } from '../internal/forward';
import type { InputSpec } from '@mlship/core';

/**
 * Mean cross-entropy and accuracy of the model on a labelled set (inference mode, batches of 256).
 *
 * @internal
 */
export async function lossAndAccuracy(
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
