import * as tf from '@tensorflow/tfjs';
import { isOurs, OURS } from './common';

/**
 * The gradients of Mean and Sum in tfjs-core multiply dy by `tf.ones(x.shape)`, built in JS: for a
 * batch norm's moments over a [64, 28, 28, 32] activation that is a 6.4 MB array filled and copied
 * to the wasm heap on every step (≈20 ms a step with the garbage it makes). On wasm, these
 * replacements broadcast dy with a Tile kernel instead: the same values (dy / n, resp. dy, at every
 * reduced position), computed the same way. On any other backend they call the stock gradients.
 */
function broadcastGrad(kernelName: 'Mean' | 'Sum'): void {
  const original = tf.getGradient(kernelName);
  if (original == null || isOurs(original.gradFunc)) return;
  const gradFunc: tf.GradFunc = (dy, saved, attrs) => {
    if (tf.getBackend() !== 'wasm') return original.gradFunc(dy, saved, attrs);
    const [x] = saved as [tf.Tensor];
    const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
    const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const reps = x.shape.map((d, i) => (axes.includes(i) ? d : 1));
    const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
    return {
      x: () => {
        let g = (dy as tf.Tensor).reshape(expanded);
        if (g.dtype !== 'float32') g = g.cast('float32');
        if (kernelName === 'Mean') g = g.div(n);
        return tf.tile(g, reps);
      },
    };
  };
  (gradFunc as unknown as Record<symbol, boolean>)[OURS] = true;
  tf.registerGradient({ ...original, gradFunc });
}

/**
 * Names of the gradients mlship replaces while the wasm backend is active (other backends keep the
 * stock gradient functions); `registerWasmTrainingKernels` installs them.
 *
 * @example
 * ```ts
 * WASM_TRAINING_GRADIENT_NAMES; // ['Mean', 'Sum']
 * ```
 */
export const WASM_TRAINING_GRADIENT_NAMES: readonly string[] = ['Mean', 'Sum'];

/** Registers the wasm-only gradient replacements; idempotent. */
export function registerWasmGradients(): void {
  broadcastGrad('Mean');
  broadcastGrad('Sum');
}
