/**
 * Image resampling and channel conversion used by the image-folder loader. Resizing is separable
 * with a triangle (bilinear) filter whose support widens by the scale factor when shrinking, so
 * downscaling averages over the covered area (like Pillow's BILINEAR) instead of aliasing; upscaling
 * is plain bilinear with half-pixel centres. Same size in and out is the identity.
 */

interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  maxTaps: number;
}

const tapCache = new Map<string, Taps>();

function taps(inSize: number, outSize: number): Taps {
  const key = `${inSize}:${outSize}`;
  const cached = tapCache.get(key);
  if (cached) return cached;
  const scale = inSize / outSize;
  const support = Math.max(scale, 1);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxTaps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(inSize - 1, Math.ceil(center + support));
    let sum = 0;
    let k = 0;
    const first = lo;
    for (let j = lo; j <= hi && k < maxTaps; j++, k++) {
      const d = Math.abs(j + 0.5 - center) / support;
      const wgt = d < 1 ? 1 - d : 0;
      weights[o * maxTaps + k] = wgt;
      sum += wgt;
    }
    if (sum === 0) {
      // Degenerate (only at extreme ratios): nearest neighbour.
      const j = Math.min(inSize - 1, Math.floor(center));
      start[o] = j;
      count[o] = 1;
      weights[o * maxTaps] = 1;
      continue;
    }
    for (let t = 0; t < k; t++)
      weights[o * maxTaps + t] = (weights[o * maxTaps + t] as number) / sum;
    start[o] = first;
    count[o] = k;
  }
  const result = { start, count, weights, maxTaps };
  if (tapCache.size > 64) tapCache.clear();
  tapCache.set(key, result);
  return result;
}

/**
 * @internal Converts RGBA8 pixels to `channels` (1: ITU-R BT.601 luma `0.299R + 0.587G + 0.114B`,
 * as Pillow's "L"; 3: RGB), ignoring alpha as Keras does, then resizes to `outH x outW`, writing
 * rounded bytes into `out` at `offset`.
 */
export function rgbaToResized(
  rgba: Uint8Array,
  inW: number,
  inH: number,
  channels: 1 | 3,
  outH: number,
  outW: number,
  out: Uint8Array,
  offset: number,
): void {
  const c = channels;
  const src = new Float32Array(inW * inH * c);
  const px = inW * inH;
  if (c === 1) {
    for (let i = 0; i < px; i++) {
      src[i] =
        0.299 * (rgba[4 * i] as number) +
        0.587 * (rgba[4 * i + 1] as number) +
        0.114 * (rgba[4 * i + 2] as number);
    }
  } else {
    for (let i = 0; i < px; i++) {
      src[3 * i] = rgba[4 * i] as number;
      src[3 * i + 1] = rgba[4 * i + 1] as number;
      src[3 * i + 2] = rgba[4 * i + 2] as number;
    }
  }
  let img = src;
  if (inW !== outW) {
    const t = taps(inW, outW);
    const next = new Float32Array(outW * inH * c);
    for (let y = 0; y < inH; y++) {
      for (let x = 0; x < outW; x++) {
        const s = t.start[x] as number;
        const n = t.count[x] as number;
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let k = 0; k < n; k++)
            acc +=
              (t.weights[x * t.maxTaps + k] as number) *
              (img[(y * inW + s + k) * c + ch] as number);
          next[(y * outW + x) * c + ch] = acc;
        }
      }
    }
    img = next;
  }
  if (inH !== outH) {
    const t = taps(inH, outH);
    const next = new Float32Array(outW * outH * c);
    for (let y = 0; y < outH; y++) {
      const s = t.start[y] as number;
      const n = t.count[y] as number;
      for (let x = 0; x < outW; x++) {
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let k = 0; k < n; k++)
            acc +=
              (t.weights[y * t.maxTaps + k] as number) *
              (img[((s + k) * outW + x) * c + ch] as number);
          next[(y * outW + x) * c + ch] = acc;
        }
      }
    }
    img = next;
  }
  const len = outW * outH * c;
  for (let i = 0; i < len; i++) {
    const v = Math.round(img[i] as number);
    out[offset + i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}
