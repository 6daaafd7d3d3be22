import * as tf from '@tensorflow/tfjs';
import { dispose, heapF32, releaseView, runStock, view, type WasmKernelArgs } from './common';

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

/** Below this many rows, the last rows are summed in a JS loop (float64). */
const JS_ROWS = 32;

/**
 * @internal
 * The Sum and Mean kernels (`mean` selects Mean) over leading axes for wasm: x seen as
 * [rows, inner] is reduced over rows by a tree of stock (SIMD) Add kernels on the two halves of the
 * remaining rows (pairwise summation: as accurate as float64 sequential sums for our purposes),
 * then the last few rows in JS. The stock kernels first transpose the reduced axes innermost (a
 * full copy, e.g. 1.4M elements for the bias gradient of a 26x26x32 conv on a batch of 64), then
 * sum in float32: ≈6x slower. Other reductions go to the stock kernels.
 */
export function reduceLeading(args: WasmKernelArgs, stock: Stock, mean: boolean): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const k = x.dtype === 'float32' ? leadingBlock(x.shape, axis) : 0;
  if (k === 0) return stock(args);
  const outer = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const innerShape = x.shape.slice(k);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...innerShape] : innerShape;

  let rows = outer;
  let cur = x; // owned (to dispose) once it is not x
  const odd: tf.TensorInfo[] = []; // rows left over by odd halvings, added at the end
  while (rows > JS_ROWS && inner > 0) {
    const half = Math.floor(rows / 2);
    const a = view(backend, cur, 0, [half * inner]);
    const b = view(backend, cur, half * inner, [half * inner]);
    const next = runStock('Add', backend, { a, b });
    releaseView(backend, a);
    releaseView(backend, b);
    if (rows % 2 === 1) {
      // Keep the last row (copy: cur is disposed below).
      const last = view(backend, cur, (rows - 1) * inner, [inner]);
      odd.push(runStock('Identity', backend, { x: last }));
      releaseView(backend, last);
    }
    if (cur !== x) dispose(backend, cur);
    cur = next;
    rows = half;
  }
  const out = backend.makeOutput(outShape, 'float32');
  const src = heapF32(backend, cur);
  const acc = new Float64Array(inner);
  for (let r = 0, p = 0; r < rows; r++) {
    for (let j = 0; j < inner; j++, p++) acc[j]! += src[p]!;
  }
  for (const row of odd) {
    const v = heapF32(backend, row);
    for (let j = 0; j < inner; j++) acc[j]! += v[j]!;
  }
  // (The mean of nothing is 0, as on cpu.)
  if (mean && outer > 0) for (let j = 0; j < inner; j++) acc[j]! /= outer;
  heapF32(backend, out).set(acc);
  if (cur !== x) dispose(backend, cur);
  dispose(backend, ...odd);
  return out;
}
