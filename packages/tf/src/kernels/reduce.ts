import * as tf from '@tensorflow/tfjs';
import { heapF32, type WasmKernelArgs } from './common';

type Stock = (args: WasmKernelArgs) => tf.TensorInfo;

/**
 * The number of leading dimensions `axis` reduces when they form a leading block [0, k) with
 * 0 < k < rank (as a bias gradient's Sum over [0, 1, 2] of NHWC does), else 0.
 */
function leadingBlock(shape: number[], axis: number | number[]): number {
  const axes = [...new Set(tf.util.parseAxisParam(axis, shape))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

/**
 * Sum/Mean over leading axes for wasm: a column reduction of x seen as [outer, inner], one pass
 * over contiguous memory with float64 accumulators. The stock kernels first transpose the reduced
 * axes innermost (a full copy, e.g. 1.4M elements for the bias gradient of a 26x26x32 conv on a
 * batch of 64), then sum in float32. Other reductions go to the stock kernel.
 */
function reduceLeading(args: WasmKernelArgs, stock: Stock, mean: boolean): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const k = x.dtype === 'float32' ? leadingBlock(x.shape, axis) : 0;
  if (k === 0) return stock(args);
  const outer = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const innerShape = x.shape.slice(k);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...innerShape] : innerShape;
  const out = backend.makeOutput(outShape, 'float32');
  const src = heapF32(backend, x);
  const dst = heapF32(backend, out);
  const acc = new Float64Array(inner);
  for (let o = 0, p = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++, p++) acc[j]! += src[p]!;
  }
  if (mean) for (let j = 0; j < inner; j++) acc[j]! /= outer;
  dst.set(acc);
  return out;
}

export function sum(args: WasmKernelArgs, stock: Stock): tf.TensorInfo {
  return reduceLeading(args, stock, false);
}

export function mean(args: WasmKernelArgs, stock: Stock): tf.TensorInfo {
  return reduceLeading(args, stock, true);
}
