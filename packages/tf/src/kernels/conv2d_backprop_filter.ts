import * as tf from '@tensorflow/tfjs';
import { dispose, runStock, transpose, type WasmKernelArgs } from './common';

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
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  const format = tf.backend_util.convertConv2DDataFormat(dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
  const { filterHeight: fH, filterWidth: fW, strideHeight: sH, strideWidth: sW } = info;
  const { inHeight: H, inWidth: W, outHeight: oH, outWidth: oW, inChannels: ci } = info;
  const { batchSize: n, outChannels: co } = info;
  const channelsLast = info.dataFormat === 'channelsLast';

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

  const dwT = runStock(
    'Conv2D',
    backend,
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [sH, sW],
    },
  );
  dispose(backend, xT, dyT);
  // [ci, fH, fW, co] -> [fH, fW, ci, co]
  const dw = transpose(backend, dwT, [1, 2, 0, 3]);
  dispose(backend, dwT);
  if (dw.shape.join() !== [fH, fW, ci, co].join()) {
    dispose(backend, dw);
    throw new Error(`@mlship/tf Conv2DBackpropFilter: internal shape error ${dw.shape}.`);
  }
  return dw;
}
