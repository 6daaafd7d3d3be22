import type * as tf from '@tensorflow/tfjs';
import { dispose, heapOffset, transpose, type WasmKernelArgs } from './common';
import { simdKernels } from './simd';

type Stock = (args: WasmKernelArgs) => tf.TensorInfo;

/** Swaps the last two dimensions of `x` (a new TensorInfo the caller owns). */
function transposeInner(args: WasmKernelArgs, x: tf.TensorInfo): tf.TensorInfo {
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return transpose(args.backend, x, perm);
}

/**
 * @internal
 * Runs a stock matmul kernel without transpose flags: the stock wasm kernels take their fast
 * (XNNPACK) path only when neither operand is transposed, and fall back to a scalar loop otherwise
 * (≈15x slower for a dense layer's gradient). Transposing the operands first is cheap.
 */
export function withoutTransposes(args: WasmKernelArgs, stock: Stock): tf.TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean };
  if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return stock(args);
  }
  const aT = transposeA ? transposeInner(args, a) : a;
  const bT = transposeB ? transposeInner(args, b) : b;
  try {
    return stock({
      inputs: { ...inputs, a: aT, b: bT },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    });
  } finally {
    if (aT !== a) dispose(backend, aT);
    if (bT !== b) dispose(backend, bT);
  }
}

const size = (shape: number[]) => shape.reduce((x, y) => x * y, 1);

/**
 * Right operands seen before (by data id). XNNPACK keeps a right operand's packing for the tensor's
 * life, and a tensor multiplied twice (weights at inference) is likely to be multiplied again: from
 * its second use on it takes the direct product, packed once.
 */
const seenRight = new WeakSet<object>();

/** C = opA·B by the SIMD kernel `gemm` (./simd.ts), or null where it cannot run. */
function unpackedProduct(
  backend: WasmKernelArgs['backend'],
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  M: number,
  N: number,
  K: number,
  tA: boolean,
): tf.TensorInfo | null {
  const gemm = simdKernels(backend)?.gemm;
  if (gemm === undefined) return null;
  const out = backend.makeOutput([M, N], 'float32');
  // A(r, k): row-major [M, K], or [K, M] when transposed.
  const [rowBytes, depthBytes] = tA ? [4, 4 * M] : [4 * K, 4];
  gemm(
    heapOffset(backend, a),
    heapOffset(backend, b),
    heapOffset(backend, out),
    M,
    N,
    K,
    rowBytes,
    depthBytes,
  );
  return out;
}

/**
 * BatchMatMul for wasm: the stock fast path, also for transposed operands.
 *
 * XNNPACK packs the right operand anew for every new tensor (≈5 ns an element against ≈1 for a
 * transpose), which dominates a dense layer's training steps, where the right operand is the (big)
 * weight matrix, new after every optimizer step. So a right operand not seen before is multiplied
 * by the SIMD kernel that reads it unpacked (2-D, opA·B with M a multiple of 4 and N of 8: a dense
 * layer's forward pass and weight gradient at the usual batch sizes); for other shapes the cheaper
 * of out = opA·opB and out = (opB^T·opA^T)^T runs, by a cost estimate of transposes and packing
 * (e.g. dx = dy·W^T with W 1600x128 and a batch of 32 packs 32x128 values instead of 128x1600).
 * A right operand seen before (the same weights at inference, from the second call on) takes the
 * direct product on its cached packing.
 */
export function batchMatMul(args: WasmKernelArgs, stock: Stock): tf.TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const tA = !!attrs.transposeA;
  const tB = !!attrs.transposeB;
  const batched = size(a.shape.slice(0, -2)) > 1 || size(b.shape.slice(0, -2)) > 1;
  if (batched || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return withoutTransposes(args, stock);
  }
  const [ra, ca] = a.shape.slice(-2) as [number, number];
  const [rb, cb] = b.shape.slice(-2) as [number, number];
  const [M, K] = tA ? [ca, ra] : [ra, ca];
  const N = tB ? rb : cb;
  const seen = !tB && seenRight.has(b.dataId);
  if (!seen && !tB && M % 4 === 0 && N % 8 === 0 && a.shape.length === 2 && b.shape.length === 2) {
    // A right operand XNNPACK has not packed: the SIMD product that reads it as it lies, as
    // fast as XNNPACK's own product on a packed operand, with nothing to pack or transpose.
    const out = unpackedProduct(backend, a, b, M, N, K, tA);
    if (out !== null) {
      seenRight.add(b.dataId);
      return out;
    }
  }
  const direct = (tA ? M * K : 0) + (tB ? K * N : 0) + (seen ? 0 : 5 * K * N);
  const swapped = (tB ? 0 : K * N) + (tA ? 0 : M * K) + 5 * K * M + M * N;
  if (!tB) seenRight.add(b.dataId);
  if (direct <= swapped) return withoutTransposes(args, stock);
  // out^T = opB^T · opA^T, both operands materialized untransposed.
  const left = tB ? b : transposeInner(args, b);
  const right = tA ? a : transposeInner(args, a);
  const outT = stock({
    inputs: { a: left, b: right },
    backend,
    attrs: { ...attrs, transposeA: false, transposeB: false },
  });
  if (left !== b) dispose(backend, left);
  if (right !== a) dispose(backend, right);
  const out = transposeInner(args, outT);
  dispose(backend, outT);
  return out;
}
