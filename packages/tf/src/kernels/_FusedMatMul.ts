import type * as tf from '@tensorflow/tfjs';
import { batchMatMul, withoutTransposes } from './BatchMatMul';
import { dispose, runStock, type WasmKernelArgs } from './common';

type Stock = (args: WasmKernelArgs) => tf.TensorInfo;

const ACTIVATIONS: Record<string, string> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/**
 * _FusedMatMul (matmul + bias + activation) for wasm: the stock fast path, also when transposed.
 *
 * The stock kernel (4.22.0) adds the bias wrongly when the batch size is > 1 (only dense layers'
 * batch-1 calls are right): then this runs matmul, Add and the activation as separate stock kernels.
 */
export function fusedMatMul(args: WasmKernelArgs, stock: Stock): tf.TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const { a, b, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo>;
  const batch = Math.max(
    a!.shape.slice(0, -2).reduce((x, y) => x * y, 1),
    b!.shape.slice(0, -2).reduce((x, y) => x * y, 1),
  );
  if (bias == null || batch === 1) return withoutTransposes(args, stock);

  const { activation, leakyreluAlpha } = attrs as { activation: string; leakyreluAlpha?: number };
  const act = ACTIVATIONS[activation];
  if (activation !== 'linear' && act == null) return withoutTransposes(args, stock);
  const product = batchMatMul(
    {
      inputs: { a: a!, b: b! },
      backend,
      attrs: { transposeA: !!attrs.transposeA, transposeB: !!attrs.transposeB },
    },
    (x) => runStock('BatchMatMul', x.backend, x.inputs, x.attrs),
  );
  const biased = runStock('Add', backend, { a: product, b: bias });
  dispose(backend, product);
  if (act == null) return biased;
  const out =
    act === 'Prelu'
      ? runStock(act, backend, { x: biased, alpha: preluActivationWeights! })
      : runStock(
          act,
          backend,
          { x: biased },
          act === 'LeakyRelu' ? { alpha: leakyreluAlpha ?? 0.2 } : {},
        );
  dispose(backend, biased);
  return out;
}
