import * as tf from '@tensorflow/tfjs';
import { heapF32, type WasmKernelArgs } from './common';

type Stock = (args: WasmKernelArgs) => tf.TensorInfo;

/**
 * MaxPoolGrad for wasm, bit-for-bit equal to the cpu backend.
 *
 * The stock wasm kernel (4.22.0) starts each window's running max at the smallest positive float,
 * so a window whose values are all <= 0 sends its gradient to the wrong element; it is also slow.
 * Here, as on cpu, each window's argmax is its first maximum in row-major scan order (a window of
 * only NaN/-Infinity gets none), and each dx element sums its dy contributions in float64 in the
 * order cpu does (dy rows, then columns, ascending) before rounding to float32.
 */
export function maxPoolGrad(args: WasmKernelArgs, stock: Stock): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') return stock(args);
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: C } = info;
  const { outHeight: oH, outWidth: oW, strideHeight: sH, strideWidth: sW } = info;
  const { effectiveFilterHeight: fH, effectiveFilterWidth: fW } = info;
  const { top, left } = info.padInfo;

  const dxInfo = backend.makeOutput(input.shape, 'float32');
  const x = heapF32(backend, input);
  const g = heapF32(backend, dy);
  const dx = heapF32(backend, dxInfo);
  // Windows overlap when the stride is smaller than the window: then sums need float64.
  const overlap = sH < fH || sW < fW;
  const acc = overlap ? new Float64Array(dx.length) : null;
  if (!overlap) dx.fill(0);

  const rowX = W * C;
  const imgX = H * rowX;
  const rowY = oW * C;
  const imgY = oH * rowY;
  if (!overlap && fH === 2 && fW === 2 && top === 0 && left === 0 && 2 * oH <= H && 2 * oW <= W) {
    // The common 2x2/2 pool without padding: every window is whole; no loops over the window.
    for (let b = 0; b < n; b++) {
      for (let yR = 0; yR < oH; yR++) {
        let p = b * imgX + 2 * yR * rowX;
        let q = b * imgY + yR * rowY;
        for (let yC = 0; yC < oW; yC++, p += C) {
          for (let d = 0; d < C; d++, p++, q++) {
            // First maximum in scan order (strict >), as on cpu; NaN and -Infinity never win.
            let best = -Infinity;
            let arg = -1;
            let v = x[p]!;
            if (v > best) {
              best = v;
              arg = p;
            }
            v = x[p + C]!;
            if (v > best) {
              best = v;
              arg = p + C;
            }
            v = x[p + rowX]!;
            if (v > best) {
              best = v;
              arg = p + rowX;
            }
            v = x[p + rowX + C]!;
            if (v > best) arg = p + rowX + C;
            if (arg >= 0) dx[arg] = 0 + g[q]!;
          }
        }
      }
    }
    return dxInfo;
  }

  // For each output (row-major over b, yR, yC, channel), find its window's argmax over x and add
  // the output's gradient there.
  for (let b = 0; b < n; b++) {
    for (let yR = 0; yR < oH; yR++) {
      const r0 = yR * sH - top;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(H, r0 + fH);
      for (let yC = 0; yC < oW; yC++) {
        const c0 = yC * sW - left;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(W, c0 + fW);
        const yBase = b * imgY + yR * rowY + yC * C;
        const xBase = b * imgX + cMin * C;
        for (let d = 0; d < C; d++) {
          let best = -Infinity;
          let arg = -1;
          for (let r = rMin; r < rMax; r++) {
            const end = xBase + r * rowX + (cMax - cMin) * C + d;
            for (let i = xBase + r * rowX + d; i < end; i += C) {
              const v = x[i]!;
              if (v > best) {
                best = v;
                arg = i;
              }
            }
          }
          if (arg < 0) continue;
          // Disjoint windows: each x element is in at most one window, so dx gets at most one
          // term: 0 + v as on cpu (exact in float32 too; turns -0 into +0 like cpu does).
          if (acc != null) acc[arg]! += g[yBase + d]!;
          else dx[arg] = 0 + g[yBase + d]!;
        }
      }
    }
  }
  if (acc != null) dx.set(acc);
  return dxInfo;
}
