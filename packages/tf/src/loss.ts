import * as tf from '@tensorflow/tfjs';
import { TfError } from './errors';
import { LABEL_HITS, LABEL_LOSS } from './kernels/LabelLoss';

const fused = (name: string): boolean => tf.getKernel(name, tf.getBackend()) != null;

function checkShapes(probs: tf.Tensor, labels: tf.Tensor, what: string): void {
  if (probs.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== probs.shape[0]) {
    const actual = `[${probs.shape.join(', ')}] and [${labels.shape.join(', ')}]`;
    throw new TfError(
      'INVALID_OPTION',
      `${what}: expected probs [n, classes] and labels [n], got ${actual}`,
      { data: { path: 'probs', expected: '[n, classes] and [n]', actual } },
    );
  }
}

/**
 * Mean cross-entropy of class probabilities `probs` ([n, classes], e.g. a softmax output) against
 * integer `labels` ([n], int32): −mean(log(p[i, label_i] + epsilon)), differentiable in `probs`.
 * On wasm (after `initRuntime`) one kernel forward and one backward; elsewhere the same formula as
 * ops (oneHot, mul, sum, add, log, mean, neg). A NaN probability gives a NaN loss.
 *
 * @example
 * ```ts
 * const loss = labelCrossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, labels);
 * ```
 */
export function labelCrossEntropy(probs: tf.Tensor, labels: tf.Tensor, epsilon = 1e-7): tf.Scalar {
  checkShapes(probs, labels, 'labelCrossEntropy');
  if (fused(LABEL_LOSS) && probs.dtype === 'float32' && labels.dtype === 'int32') {
    return tf.engine().runKernel<tf.Scalar>(LABEL_LOSS, { probs, labels }, { epsilon });
  }
  return tf.tidy(() => {
    const pLabel = tf.sum(tf.mul(tf.oneHot(labels, probs.shape[1]!), probs), -1);
    return tf.neg(tf.mean(tf.log(tf.add(pLabel, epsilon)))) as tf.Scalar;
  });
}

/**
 * How many rows of `probs` ([n, classes]) have their largest value at their label ([n], int32),
 * as a float32 scalar (ties go to the first index, as `tf.argMax`). One kernel on wasm.
 *
 * @example
 * ```ts
 * const correct = (await labelHits(probs, labels).data())[0];
 * ```
 */
export function labelHits(probs: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  checkShapes(probs, labels, 'labelHits');
  if (fused(LABEL_HITS) && probs.dtype === 'float32' && labels.dtype === 'int32') {
    return tf.engine().runKernel<tf.Scalar>(LABEL_HITS, { probs, labels }, {});
  }
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), labels), 'float32')));
}
