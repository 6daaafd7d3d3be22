import type * as tf from '@tensorflow/tfjs';
import type { WasmKernelArgs } from './common';

type Stock = (args: WasmKernelArgs) => tf.TensorInfo;

/**
 * Identity for wasm as an alias of its input (refcounted, like the wasm Reshape and the cpu
 * Identity), instead of the stock copy: tensors are immutable and no wasm kernel writes into its
 * inputs. Training calls it ~40 times a step (gradient plumbing, optimizer state), copying weights.
 */
export function identity(args: WasmKernelArgs, stock: Stock): tf.TensorInfo {
  const { inputs, backend } = args;
  const { x } = inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string' || x.dtype === 'complex64') return stock(args);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}
