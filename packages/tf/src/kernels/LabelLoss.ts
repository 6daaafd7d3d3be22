import * as tf from '@tensorflow/tfjs';
import { heapF32, type WasmKernelArgs } from './common';

/** Mean cross-entropy of class probabilities against integer labels (wasm only). */
export const LABEL_LOSS = 'MlshipLabelLoss';
/** Its gradient with respect to the probabilities (wasm only). */
export const LABEL_LOSS_GRAD = 'MlshipLabelLossGrad';
/** How many rows' largest probability is at their label (wasm only). */
export const LABEL_HITS = 'MlshipLabelHits';

interface Inputs {
  probs: tf.TensorInfo;
  labels: tf.TensorInfo;
  dy?: tf.TensorInfo;
}

function views(args: WasmKernelArgs): { p: Float32Array; y: Int32Array; n: number; c: number } {
  const { probs, labels } = args.inputs as unknown as Inputs;
  const [n, c] = probs.shape as [number, number];
  return {
    p: heapF32(args.backend, probs),
    y: args.backend.typedArrayFromHeap(labels) as Int32Array,
    n,
    c,
  };
}

function scalarOut(args: WasmKernelArgs, value: number): tf.TensorInfo {
  const out = args.backend.makeOutput([], 'float32');
  heapF32(args.backend, out)[0] = value;
  return out;
}

/**
 * Row i's sum(oneHot(y_i) · p[i]) as the op formula computes it: p[i, y_i] plus 0 · p[i, j] for
 * every other j, so that a NaN or infinite probability anywhere in the row makes it NaN.
 */
function labelProbability(p: Float32Array, y: Int32Array, c: number, i: number): number {
  const label = y[i]!;
  let sum = p[i * c + label]!;
  for (let j = 0; j < c; j++) if (j !== label) sum += 0 * p[i * c + j]!;
  return sum;
}

/**
 * loss = −mean_i log(p[i, y_i] + ε), in float64 over a [n, classes] float32 `probs` and int32
 * `labels`: one kernel for the seven of the op formula (oneHot, mul, sum, add, log, mean, neg). A
 * NaN probability anywhere gives a NaN loss, as the formula does (divergence stays visible).
 */
export function labelLoss(args: WasmKernelArgs): tf.TensorInfo {
  const { epsilon } = args.attrs as { epsilon: number };
  const { p, y, n, c } = views(args);
  let sum = 0;
  for (let i = 0; i < n; i++) sum -= Math.log(labelProbability(p, y, c, i) + epsilon);
  return scalarOut(args, n === 0 ? Number.NaN : sum / n);
}

/**
 * d loss / d probs: −dy / (n·(p[i, y_i] + ε)) at each row's label, 0 elsewhere (NaN across a row
 * whose loss term is NaN, as the formula's 0 · NaN).
 */
export function labelLossGrad(args: WasmKernelArgs): tf.TensorInfo {
  const { epsilon } = args.attrs as { epsilon: number };
  const { dy } = args.inputs as unknown as Inputs;
  const { probs } = args.inputs as unknown as Inputs;
  const out = args.backend.makeOutput(probs.shape, 'float32');
  // Views only now: makeOutput can grow the heap, which detaches earlier views.
  const { p, y, n, c } = views(args);
  const g = heapF32(args.backend, out);
  const scale = -heapF32(args.backend, dy!)[0]! / n;
  for (let i = 0; i < n; i++) {
    const row = scale / (labelProbability(p, y, c, i) + epsilon);
    for (let j = 0; j < c; j++) g[i * c + j] = (j === y[i] ? 1 : 0) * row;
  }
  return out;
}

/** The number of rows whose first largest probability is at their label (tf.argMax's choice). */
export function labelHits(args: WasmKernelArgs): tf.TensorInfo {
  const { p, y, n, c } = views(args);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (p[i * c + j]! > p[i * c + best]!) best = j;
    if (best === y[i]) hits++;
  }
  return scalarOut(args, hits);
}

/** Registers {@link LABEL_LOSS}'s gradient (backend-independent, like every tfjs gradient). */
export function registerLabelLossGradient(): void {
  if (tf.getGradient(LABEL_LOSS) != null) return;
  tf.registerGradient({
    kernelName: LABEL_LOSS,
    inputsToSave: ['probs', 'labels'],
    gradFunc: (dy, saved, attrs) => {
      const [probs, labels] = saved as [tf.Tensor, tf.Tensor];
      return {
        probs: () =>
          tf.engine().runKernel(LABEL_LOSS_GRAD, { probs, labels, dy: dy as tf.Tensor }, attrs),
        labels: () => tf.zerosLike(labels),
      };
    },
  });
}
