import * as tf from '@tensorflow/tfjs';
import type { WasmKernelArgs } from './common';

type Stock = (args: WasmKernelArgs) => tf.TensorInfo;

/**
 * GatherV2 (batchDims 0) for wasm with block copies of the gathered slices; the stock kernel
 * computes every element's index (≈1 ms to gather a batch of 64 28x28 images in model.fit).
 */
export function gatherV2(args: WasmKernelArgs, stock: Stock): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, indices } = inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const { axis, batchDims } = attrs as unknown as { axis: number; batchDims?: number };
  if ((batchDims ?? 0) !== 0 || x.dtype === 'string' || x.dtype === 'complex64') return stock(args);
  if (indices.dtype !== 'int32') return stock(args);
  const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const dim = x.shape[ax]!;
  const outer = x.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  const idx = (backend.typedArrayFromHeap(indices) as Int32Array).slice();
  for (const i of idx) {
    // The stock kernel's check and message.
    tf.util.assert(
      i <= dim - 1 && i >= 0,
      () => `GatherV2: the index value ${i} is not in [0, ${dim - 1}]`,
    );
  }
  const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
  const out = backend.makeOutput(outShape, x.dtype);
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  let p = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * dim * inner;
    for (let k = 0; k < idx.length; k++) {
      const s = base + idx[k]! * inner;
      if (inner >= 16) dst.set(src.subarray(s, s + inner), p);
      else for (let j = 0; j < inner; j++) dst[p + j] = src[s + j]!;
      p += inner;
    }
  }
  return out;
}
