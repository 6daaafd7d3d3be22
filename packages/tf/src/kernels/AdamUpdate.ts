import type * as tf from '@tensorflow/tfjs';
import { heapF32, heapOffset, type WasmKernelArgs } from './common';
import { simdKernels } from './simd';

/** The name of the fused Adam step kernel (registered for wasm only). */
export const ADAM_UPDATE = 'MlshipAdamUpdate';

/** Attributes of {@link ADAM_UPDATE}: the step's constants, bias corrections included. */
export interface AdamUpdateAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 - beta1^t of this step (t counts from 1). */
  correction1: number;
  /** 1 - beta2^t of this step. */
  correction2: number;
}

/**
 * One Adam step for one variable in a single pass over its elements: inputs `x` (the variable's
 * value), `m`, `v` (its moments) and `g` (its gradient), all float32 of one shape; outputs the new
 * `x`, `m` and `v` as new tensors (never in place: XNNPACK caches the packed form of a matmul
 * operand by tensor, so a value changed in place would be multiplied with its stale packing).
 *
 * The arithmetic of tfjs's AdamOptimizer (m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
 * x ← x − lr·(m / c1) / (√(v / c2) + ε)) in float32, four elements at a time by WebAssembly SIMD
 * on the backend's heap: the stock optimizer runs ~13 kernels per variable, each a pass over it.
 */
export function adamUpdate(args: WasmKernelArgs): tf.TensorInfo[] {
  const { inputs, backend } = args;
  const { x, m, v, g } = inputs as Record<'x' | 'm' | 'v' | 'g', tf.TensorInfo>;
  const { learningRate, beta1, beta2, epsilon, correction1, correction2 } =
    args.attrs as unknown as AdamUpdateAttrs;
  const outs = [0, 1, 2].map(() => backend.makeOutput(x.shape, 'float32'));
  const n = x.shape.reduce((a, b) => a * b, 1);
  const step = learningRate / correction1;
  const c2 = 1 / correction2;
  const loop = simdKernels(backend)?.adam ?? null;
  // The SIMD loop takes whole groups of 4; the rest (and everything without SIMD) runs below.
  const simd = loop === null ? 0 : n - (n % 4);
  if (simd > 0) {
    const [x0, m0, v0, g0, xo, mo, vo] = [x, m, v, g, ...outs].map((t) => heapOffset(backend, t));
    loop!(
      x0!,
      m0!,
      v0!,
      g0!,
      xo!,
      mo!,
      vo!,
      simd * 4,
      beta1,
      beta2,
      1 - beta1,
      1 - beta2,
      step,
      c2,
      epsilon,
    );
  }
  if (simd < n) {
    // Views only now: makeOutput can grow the heap, which detaches earlier views.
    const [xs, ms, vs, gs, xo, mo, vo] = [x, m, v, g, ...outs].map((t) => heapF32(backend, t));
    const f = Math.fround;
    for (let i = simd; i < n; i++) {
      const gi = gs![i]!;
      const mi = f(f(f(beta1) * ms![i]!) + f(f(1 - beta1) * gi));
      const vi = f(f(f(beta2) * vs![i]!) + f(f(1 - beta2) * f(gi * gi)));
      mo![i] = mi;
      vo![i] = vi;
      xo![i] = xs![i]! - f(f(f(step) * mi) / f(f(Math.sqrt(f(vi * f(c2)))) + f(epsilon)));
    }
  }
  return outs;
}
