import type * as tf from '@tensorflow/tfjs';
import {
  conv2DBackpropInfo,
  dispose,
  heapF32,
  runStock,
  stockConv2D,
  transpose,
  type Conv2DBackpropAttrs,
  type WasmKernelArgs,
} from './common';

/**
 * Conv2DBackpropInput (dx of a 2-D convolution) for wasm, whose stock kernel is a scalar loop.
 *
 * dx is a stride-1 convolution, run on the stock XNNPACK Conv2D, of dy (zero-dilated by the
 * forward stride when it is > 1) with the filter flipped spatially and its in/out channels swapped:
 *   dx = conv2d(dilate(dy), w'[a, b, co, ci] = w[fH-1-a, fW-1-b, ci, co],
 *               padding [fH-1-pT, H-1+pT-(oH-1)*sH] x [fW-1-pL, W-1+pL-(oW-1)*sW]).
 *
 * When it is cheaper (few input channels, where XNNPACK's GEMM runs at 1/8 of its width, or a
 * stride > 1, where most of the dilated dy is zeros), and for paddings that would be negative
 * (explicit pads larger than the filter), dx is instead col2im(dy · W^T): one matmul on the stock
 * XNNPACK path, then a JS scatter-add of the [P, fH*fW*inChannels] patch gradients.
 */
export function conv2DBackpropInput(
  { inputs, backend, attrs }: WasmKernelArgs,
  stockKernel: (args: WasmKernelArgs) => tf.TensorInfo,
): tf.TensorInfo {
  // (stockKernel: for non-float32 tensors only.)
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const convAttrs = attrs as unknown as Conv2DBackpropAttrs & {
    inputShape: [number, number, number, number];
  };
  const info = conv2DBackpropInfo(
    convAttrs.inputShape,
    filter.shape as [number, number, number, number],
    convAttrs,
  );
  const { filterHeight: fH, filterWidth: fW, strideHeight: sH, strideWidth: sW } = info;
  const { inHeight: H, inWidth: W, outHeight: oH, outWidth: oW } = info;
  const { batchSize: n, inChannels: ci, outChannels: co } = info;
  const { top, left } = info.padInfo;
  const padT = fH - 1 - top;
  const padL = fW - 1 - left;
  const padB = H - 1 + top - (oH - 1) * sH;
  const padR = W - 1 + left - (oW - 1) * sW;
  if (filter.dtype !== 'float32' || dy.dtype !== 'float32') {
    return stockKernel({ inputs, backend, attrs });
  }
  const channelsLast = info.dataFormat === 'channelsLast';
  let dyIn = channelsLast ? dy : transpose(backend, dy, [0, 2, 3, 1]);
  if (padT < 0 || padL < 0 || padB < 0 || padR < 0 || byCol2im(info)) {
    const dx = col2imRoute(backend, dyIn, filter, info);
    if (dyIn !== dy) dispose(backend, dyIn);
    if (channelsLast) return dx;
    const dxT = transpose(backend, dx, [0, 3, 1, 2]);
    dispose(backend, dx);
    return dxT;
  }

  // dy zero-dilated by the stride.
  if (sH > 1 || sW > 1) {
    const dH = (oH - 1) * sH + 1;
    const dW = (oW - 1) * sW + 1;
    const dilated = backend.makeOutput([n, dH, dW, co], 'float32');
    const src = heapF32(backend, dyIn);
    const dst = heapF32(backend, dilated);
    dst.fill(0);
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < oH; i++) {
        for (let j = 0; j < oW; j++) {
          const s = ((b * oH + i) * oW + j) * co;
          dst.set(src.subarray(s, s + co), ((b * dH + i * sH) * dW + j * sW) * co);
        }
      }
    }
    if (dyIn !== dy) dispose(backend, dyIn);
    dyIn = dilated;
  }

  // w'[a, b, o, i] = w[fH-1-a, fW-1-b, i, o]
  const flipped = backend.makeOutput([fH, fW, co, ci], 'float32');
  {
    const w = heapF32(backend, filter);
    const wf = heapF32(backend, flipped);
    for (let a = 0; a < fH; a++) {
      for (let b = 0; b < fW; b++) {
        const s = ((fH - 1 - a) * fW + (fW - 1 - b)) * ci * co;
        const d = (a * fW + b) * co * ci;
        for (let i = 0; i < ci; i++) {
          for (let o = 0; o < co; o++) wf[d + o * ci + i] = w[s + i * co + o]!;
        }
      }
    }
  }

  const dx = stockConv2D(backend, dyIn, flipped, [padT, padB], [padL, padR], [1, 1]);
  dispose(backend, flipped);
  if (dyIn !== dy) dispose(backend, dyIn);
  if (channelsLast) return dx;
  const dxT = transpose(backend, dx, [0, 3, 1, 2]);
  dispose(backend, dx);
  return dxT;
}

/**
 * Whether the col2im route is estimated cheaper than the conv route: XNNPACK ≈ 0.05 ns a FLOP,
 * doing at least 8 output channels' worth of work per pixel and column block; the JS scatter ≈ 2
 * ns an element. (Fitted on 2 cores: model A's second conv, 3x3 32->64 on 13x13, stays on the conv
 * route, 16 vs 19 ms; a first layer's 1->32 dx takes col2im, 6 vs 9 ms; a stride-2 32->64 conv on
 * 14x14 takes col2im, 7 vs 18 ms.)
 */
function byCol2im(info: tf.backend_util.Conv2DInfo): boolean {
  const { batchSize: n, inHeight: H, inWidth: W, outHeight: oH, outWidth: oW } = info;
  const { filterHeight: fH, filterWidth: fW, inChannels: ci, outChannels: co } = info;
  const patch = fH * fW * ci;
  const conv = 0.05 * 2 * n * H * W * fH * fW * co * Math.max(ci, 8);
  const P = n * oH * oW;
  const col2im = 0.05 * 2 * P * co * Math.ceil(patch / 8) * 8 + 4 * P * patch;
  return col2im < conv;
}

/** dx = col2im(dy · W^T) for NHWC dy (any padding and stride). */
function col2imRoute(
  backend: WasmKernelArgs['backend'],
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { filterHeight: fH, filterWidth: fW, strideHeight: sH, strideWidth: sW } = info;
  const { inHeight: H, inWidth: W, outHeight: oH, outWidth: oW } = info;
  const { batchSize: n, inChannels: ci, outChannels: co } = info;
  const { top, left } = info.padInfo;
  const P = n * oH * oW;
  const patch = fH * fW * ci;
  // The filter [fH, fW, ci, co] is W as [patch, co]; the matmul needs W^T [co, patch].
  const wT = transpose(backend, { ...filter, shape: [patch, co] }, [1, 0]);
  const cols = runStock(
    'BatchMatMul',
    backend,
    { a: { ...dy, shape: [P, co] }, b: wT },
    { transposeA: false, transposeB: false },
  );
  dispose(backend, wT);
  const dxInfo = backend.makeOutput([n, H, W, ci], 'float32');
  const g = heapF32(backend, cols);
  const dx = heapF32(backend, dxInfo);
  dx.fill(0);
  let p = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oH; i++) {
      for (let j = 0; j < oW; j++) {
        for (let a = 0; a < fH; a++) {
          const r = i * sH + a - top;
          if (r < 0 || r >= H) {
            p += fW * ci;
            continue;
          }
          for (let e = 0; e < fW; e++, p += ci) {
            const c = j * sW + e - left;
            if (c < 0 || c >= W) continue;
            const d = ((b * H + r) * W + c) * ci;
            for (let k = 0; k < ci; k++) dx[d + k]! += g[p + k]!;
          }
        }
      }
    }
  }
  dispose(backend, cols);
  return dxInfo;
}
