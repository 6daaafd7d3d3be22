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
 * Conv2DBackpropFilter (dW of a 2-D convolution) for wasm, which has none (tfjs issue #8474).
 *
 * The filter gradient is itself a convolution, run on the stock XNNPACK Conv2D:
 *   dW[a, b, ci, co] = sum_{n, i, j} x[n, a + i*sH - pT, b + j*sW - pL, ci] * dy[n, i, j, co]
 * i.e. with x' = x as [ci, H, W, n] (the batch becomes the channels) and dy' = dy as
 * [oH, oW, n, co] (a filter), dW' = conv2d(x', dy', stride 1, dilation = forward stride, padding
 * [pT, pB'] x [pL, pR']) has shape [ci, fH, fW, co]; dW is that transposed to [fH, fW, ci, co].
 * pB' is chosen so the output is exactly fH rows; when it would be negative (rows the forward conv
 * never reads), x' is cropped instead.
 */
export function conv2DBackpropFilter({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const convAttrs = attrs as unknown as Conv2DBackpropAttrs & {
    filterShape: [number, number, number, number];
  };
  const info = conv2DBackpropInfo(
    x.shape as [number, number, number, number],
    convAttrs.filterShape,
    convAttrs,
  );
  const { filterHeight: fH, filterWidth: fW, strideHeight: sH, strideWidth: sW } = info;
  const { inHeight: H, inWidth: W, outHeight: oH, outWidth: oW, inChannels: ci } = info;
  const { batchSize: n, outChannels: co } = info;
  const channelsLast = info.dataFormat === 'channelsLast';
  if (channelsLast && byIm2col(info)) {
    return conv2DBackpropFilterIm2col(backend, x, dy, info);
  }

  // x -> [ci, H, W, n]; dy -> [oH, oW, n, co].
  let xT = transpose(backend, x, channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0]);
  const dyT = transpose(backend, dy, channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1]);

  const { top, left } = info.padInfo;
  let bottom = fH + (oH - 1) * sH - H - top;
  let right = fW + (oW - 1) * sW - W - left;
  if (bottom < 0 || right < 0) {
    const cropped = runStock(
      'Slice',
      backend,
      { x: xT },
      { begin: [0, 0, 0, 0], size: [ci, H + Math.min(bottom, 0), W + Math.min(right, 0), n] },
    );
    dispose(backend, xT);
    xT = cropped;
    bottom = Math.max(bottom, 0);
    right = Math.max(right, 0);
  }

  const dwT = stockConv2D(backend, xT, dyT, [top, bottom], [left, right], [sH, sW]);
  dispose(backend, xT, dyT);
  // [ci, fH, fW, co] -> [fH, fW, ci, co]
  const dw = transpose(backend, dwT, [1, 2, 0, 3]);
  dispose(backend, dwT);
  if (dw.shape.join() !== [fH, fW, ci, co].join()) {
    dispose(backend, dw);
    throw new Error(`@mlship/tf Conv2DBackpropFilter: internal shape error ${dw.shape.join(',')}.`);
  }
  return dw;
}

/**
 * Whether the im2col route is cheaper. Both routes are dominated by XNNPACK packing its right
 * operand anew (≈5-10 ns an element): the conv route packs dy (P x outChannels values, P = batch *
 * output pixels), the im2col route packs the patches (P x fH*fW*inChannels) plus a JS im2col pass.
 * So im2col wins for thin patches, as in a first layer on 1-channel images (9 vs 32 columns).
 */
function byIm2col(info: tf.backend_util.Conv2DInfo): boolean {
  const patch = info.filterHeight * info.filterWidth * info.inChannels;
  return 13 * patch < 5.6 * info.outChannels;
}

/**
 * dW = (dy^T · cols)^T with cols the [P, fH*fW*inChannels] patches of x (im2col, built here in
 * JS), by the stock XNNPACK matmul (NHWC only).
 */
function conv2DBackpropFilterIm2col(
  backend: WasmKernelArgs['backend'],
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { filterHeight: fH, filterWidth: fW, strideHeight: sH, strideWidth: sW } = info;
  const { inHeight: H, inWidth: W, outHeight: oH, outWidth: oW, inChannels: ci } = info;
  const { batchSize: n, outChannels: co } = info;
  const { top, left } = info.padInfo;
  const P = n * oH * oW;
  const width = fH * fW * ci;
  const cols = backend.makeOutput([P, width], 'float32');
  {
    const xs = heapF32(backend, x);
    const c = heapF32(backend, cols);
    let p = 0;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < oH; i++) {
        for (let j = 0; j < oW; j++) {
          for (let a = 0; a < fH; a++) {
            const r = i * sH + a - top;
            for (let e = 0; e < fW; e++) {
              const col = j * sW + e - left;
              if (r < 0 || r >= H || col < 0 || col >= W) {
                c.fill(0, p, p + ci);
              } else {
                const s = ((b * H + r) * W + col) * ci;
                for (let k = 0; k < ci; k++) c[p + k] = xs[s + k]!;
              }
              p += ci;
            }
          }
        }
      }
    }
  }
  const dyT = transpose(backend, { dataId: dy.dataId, shape: [P, co], dtype: dy.dtype }, [1, 0]);
  const dwT = runStock(
    'BatchMatMul',
    backend,
    { a: dyT, b: cols },
    { transposeA: false, transposeB: false },
  );
  dispose(backend, dyT, cols);
  const dw = transpose(backend, dwT, [1, 0]);
  dispose(backend, dwT);
  dw.shape = [fH, fW, ci, co];
  return dw;
}
