import type { ImageDataset } from '@mlship/data';
import { labelCrossEntropy, labelHits, tf } from '@mlship/tf';
import { imageBatch } from '../internal/data';
import { EPSILON } from '../internal/forward';
import type { InputSpec } from '@mlship/core';
import type { Trainables } from './optimizer';
import type { StepResult, Stepper } from './stepper';

/**
 * Every step on the calling thread: `optimizer.minimize` of the cross-entropy, inputs scaled batch
 * by batch (Uint8 images are never materialised as floats).
 *
 * @internal
 */
export class LocalStepper implements Stepper {
  constructor(
    private readonly model: tf.LayersModel,
    private readonly trainSet: ImageDataset,
    private readonly input: InputSpec,
    private readonly trainables: Trainables,
  ) {}

  beginEpoch(): Promise<boolean> {
    return Promise.resolve(true);
  }

  async step(
    order: Uint32Array | null,
    start: number,
    count: number,
    labels: Int32Array,
  ): Promise<StepResult> {
    const { model } = this;
    const { optimizer, vars } = this.trainables;
    const [loss, correct] = tf.tidy(() => {
      const x = imageBatch(this.trainSet, order, start, count, this.input);
      const y = tf.tensor1d(labels, 'int32');
      let hits: tf.Tensor | undefined;
      const cost = optimizer.minimize(
        () => {
          const probs = model.apply(x, { training: true }) as tf.Tensor2D;
          hits = tf.keep(labelHits(probs, y));
          // Cross-entropy as -log(p[label] + eps): unlike clipping, a NaN probability stays NaN,
          // so divergence is detected instead of being clipped into a finite loss.
          return labelCrossEntropy(probs, y, EPSILON);
        },
        true,
        vars,
      )!;
      return [cost, hits!] as const;
    });
    try {
      return { loss: (await loss.data())[0]!, correct: (await correct.data())[0]! };
    } finally {
      loss.dispose();
      correct.dispose();
    }
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}
