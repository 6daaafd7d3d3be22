import * as tf from '@tensorflow/tfjs';

/**
 * The losses the parallel trainer can split across shards (compile the model with one of these).
 *
 * @example
 * ```ts
 * if (!(PARALLEL_LOSSES as readonly string[]).includes(lossName)) trainOnTheMainThread();
 * ```
 */
export const PARALLEL_LOSSES = [
  'categoricalCrossentropy',
  'binaryCrossentropy',
  'meanSquaredError',
  'mse',
  'meanAbsoluteError',
  'mae',
] as const;

/** A loss name {@link createParallelTrainer} supports. */
export type ParallelLoss = (typeof PARALLEL_LOSSES)[number];

/**
 * @internal
 * The per-example loss function of a {@link ParallelLoss} (tfjs's metric functions, as
 * `model.compile` resolves the same names). The main thread's shard and every worker use this.
 */
export function lossFunction(name: ParallelLoss): (y: tf.Tensor, p: tf.Tensor) => tf.Tensor {
  const m = tf.metrics;
  switch (name) {
    case 'categoricalCrossentropy':
      return m.categoricalCrossentropy;
    case 'binaryCrossentropy':
      return m.binaryCrossentropy;
    case 'meanSquaredError':
    case 'mse':
      return m.meanSquaredError;
    case 'meanAbsoluteError':
    case 'mae':
      return m.meanAbsoluteError;
  }
}

/**
 * @internal
 * How many examples of a shard the predictions `p` get right: argmax match with the targets `y`,
 * or for binary cross-entropy the fraction of outputs on the right side of 0.5 (per example).
 * The main thread's shard and every worker count with this.
 */
export function correctCount(name: ParallelLoss, y: tf.Tensor, p: tf.Tensor): number {
  return tf.tidy(() => {
    if (name === 'binaryCrossentropy') {
      const hits = tf.equal(tf.greater(y, 0.5), tf.greater(p, 0.5)).sum().dataSync()[0] ?? 0;
      return hits / (p.shape[1] ?? 1);
    }
    return tf.equal(tf.argMax(y, -1), tf.argMax(p, -1)).sum().dataSync()[0] ?? 0;
  });
}
