import { imageSize } from './dataset';
import { DataError } from './errors';
import { checkDataOptions } from './options';
import { checkSeed, createRng } from './random';
import type { Rng } from './random';
import type { ImageDataset } from './types';

/** Rotation about the image centre by an angle drawn per image, uniform in `[-maxDegrees, maxDegrees]` (or in `degrees`). */
export interface RotateShift {
  kind: 'rotate';
  /** Largest absolute angle in degrees (counter-clockwise positive). */
  maxDegrees?: number;
  /** Explicit `[min, max]` angle range in degrees; overrides `maxDegrees`. */
  degrees?: readonly [number, number];
}

/** Translation by a per-image offset in pixels (sub-pixel offsets are interpolated bilinearly). */
export interface TranslateShift {
  kind: 'translate';
  /** Both offsets uniform in `[-maxPixels, maxPixels]`. */
  maxPixels?: number;
  /** Explicit horizontal range `[min, max]` (positive = right); overrides `maxPixels` for x. */
  x?: readonly [number, number];
  /** Explicit vertical range `[min, max]` (positive = down); overrides `maxPixels` for y. */
  y?: readonly [number, number];
}

/** Zoom about the image centre by a factor uniform in `[min, max]` (> 1 enlarges the content). */
export interface ScaleShift {
  kind: 'scale';
  min: number;
  max: number;
}

/**
 * Additive gaussian noise. `sigma` is a fraction of the full range: 255 for Uint8 images, 1 for
 * Float32 images (so `sigma: 0.1` adds noise of standard deviation 25.5 to raw pixels).
 */
export interface NoiseShift {
  kind: 'noise';
  sigma: number;
}

/** Inversion: `255 - x` for Uint8, `1 - x` for Float32, applied to each image with `probability` (default 1). */
export interface InvertShift {
  kind: 'invert';
  probability?: number;
}

/** Gaussian blur with standard deviation `sigma` pixels (a number, or `[min, max]` drawn per image); kernel radius `ceil(3 sigma)`. */
export interface BlurShift {
  kind: 'blur';
  sigma: number | readonly [number, number];
}

/**
 * Elastic distortion (Simard et al. 2003): a per-image random displacement field, uniform in
 * [-1, 1] per pixel, smoothed by a gaussian of `sigma` pixels and scaled by `alpha` pixels.
 */
export interface ElasticShift {
  kind: 'elastic';
  alpha: number;
  sigma: number;
}

/** Several shifts applied in order (nested compositions are flattened). */
export interface ComposeShift {
  kind: 'compose';
  shifts: readonly ShiftSpec[];
}

/** A domain shift as plain JSON: store it next to a model or an experiment and replay it. */
export type ShiftSpec =
  | RotateShift
  | TranslateShift
  | ScaleShift
  | NoiseShift
  | InvertShift
  | BlurShift
  | ElasticShift
  | ComposeShift;

/**
 * Composes shifts into one spec, applied left to right.
 *
 * @param shifts - the shifts
 * @returns `{ kind: 'compose', shifts }`
 * @throws DataError `INVALID_OPTION` when a spec is not valid
 * @example
 * ```ts
 * const shift = composeShifts([{ kind: 'rotate', maxDegrees: 15 }, { kind: 'noise', sigma: 0.05 }]);
 * ```
 */
export function composeShifts(shifts: readonly ShiftSpec[]): ComposeShift {
  const spec: ComposeShift = { kind: 'compose', shifts: [...shifts] };
  validateShift(spec);
  return spec;
}

function bad(spec: unknown, what: string): DataError {
  return new DataError('INVALID_OPTION', `shift ${JSON.stringify(spec)}: ${what}`, {
    data: { actual: spec },
  });
}

/** The keys each kind of shift spec accepts; any other key is a typo, refused as INVALID_OPTION. */
const SHIFT_KEYS: Readonly<Record<ShiftSpec['kind'], readonly string[]>> = {
  rotate: ['kind', 'maxDegrees', 'degrees'],
  translate: ['kind', 'maxPixels', 'x', 'y'],
  scale: ['kind', 'min', 'max'],
  noise: ['kind', 'sigma'],
  invert: ['kind', 'probability'],
  blur: ['kind', 'sigma'],
  elastic: ['kind', 'alpha', 'sigma'],
  compose: ['kind', 'shifts'],
};

function isNum(v: unknown, min = -Infinity): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min;
}

function isRange(v: unknown, min = -Infinity): v is readonly [number, number] {
  return Array.isArray(v) && v.length === 2 && isNum(v[0], min) && isNum(v[1], min) && v[0] <= v[1];
}

/**
 * Checks a shift spec (recursively for compositions).
 *
 * @param spec - the spec
 * @returns the same spec
 * @throws DataError `INVALID_OPTION` naming the bad field and what was expected
 * @example
 * ```ts
 * validateShift({ kind: 'blur', sigma: [0.5, 1.5] });
 * ```
 */
export function validateShift<T extends ShiftSpec>(spec: T): T {
  const s: ShiftSpec = spec;
  const kind: unknown = (s as { kind?: unknown } | null)?.kind;
  if (typeof kind === 'string' && Object.hasOwn(SHIFT_KEYS, kind)) {
    checkDataOptions(s, SHIFT_KEYS[kind as ShiftSpec['kind']], `shift '${kind}'`);
  }
  switch (s?.kind) {
    case 'rotate':
      if (s.degrees !== undefined ? !isRange(s.degrees) : !isNum(s.maxDegrees, 0)) {
        throw bad(spec, 'expected maxDegrees >= 0 or degrees [min, max]');
      }
      return spec;
    case 'translate':
      if (s.maxPixels !== undefined && !isNum(s.maxPixels, 0))
        throw bad(spec, 'expected maxPixels >= 0');
      if (s.x !== undefined && !isRange(s.x)) throw bad(spec, 'expected x as [min, max]');
      if (s.y !== undefined && !isRange(s.y)) throw bad(spec, 'expected y as [min, max]');
      if (s.maxPixels === undefined && (s.x === undefined || s.y === undefined))
        throw bad(spec, 'expected maxPixels, or both x and y ranges');
      return spec;
    case 'scale':
      if (!isNum(s.min) || !isNum(s.max) || s.min <= 0 || s.min > s.max)
        throw bad(spec, 'expected 0 < min <= max');
      return spec;
    case 'noise':
      if (!isNum(s.sigma, 0)) throw bad(spec, 'expected sigma >= 0 (fraction of the full range)');
      return spec;
    case 'invert':
      if (s.probability !== undefined && (!isNum(s.probability, 0) || s.probability > 1))
        throw bad(spec, 'expected probability in [0, 1]');
      return spec;
    case 'blur':
      if (!isNum(s.sigma, 0) && !isRange(s.sigma, 0))
        throw bad(spec, 'expected sigma >= 0 or [min, max] with min >= 0');
      return spec;
    case 'elastic':
      if (!isNum(s.alpha, 0) || !isNum(s.sigma) || s.sigma <= 0)
        throw bad(spec, 'expected alpha >= 0 and sigma > 0');
      return spec;
    case 'compose':
      if (!Array.isArray(s.shifts)) throw bad(spec, 'expected shifts: ShiftSpec[]');
      for (const sub of s.shifts) validateShift(sub);
      return spec;
    default:
      throw bad(
        spec,
        "unknown kind (expected 'rotate', 'translate', 'scale', 'noise', 'invert', 'blur', 'elastic' or 'compose')",
      );
  }
}

type Leaf = Exclude<ShiftSpec, ComposeShift>;

function flatten(spec: ShiftSpec, out: Leaf[] = []): Leaf[] {
  if (spec.kind === 'compose') for (const s of spec.shifts) flatten(s, out);
  else out.push(spec);
  return out;
}

interface Frame {
  h: number;
  w: number;
  c: number;
  /** Full range: 255 for Uint8 data, 1 for Float32 data. */
  range: number;
}

/**
 * Output pixel i takes the source at (mapX[i], mapY[i]), sampled bilinearly; outside the image
 * counts as 0. Maps are float64 so integer positions stay exact (identity stays identity).
 */
function warp(
  src: Float32Array,
  dst: Float32Array,
  f: Frame,
  mapX: Float64Array,
  mapY: Float64Array,
): void {
  const { w, h, c } = f;
  const n = w * h;
  for (let i = 0; i < n; i++) {
    const sx = mapX[i] as number;
    const sy = mapY[i] as number;
    const x0 = Math.floor(sx);
    const y0 = Math.floor(sy);
    const fx = sx - x0;
    const fy = sy - y0;
    const xIn0 = x0 >= 0 && x0 < w;
    const xIn1 = x0 + 1 >= 0 && x0 + 1 < w;
    const yIn0 = y0 >= 0 && y0 < h;
    const yIn1 = y0 + 1 >= 0 && y0 + 1 < h;
    const w00 = xIn0 && yIn0 ? (1 - fx) * (1 - fy) : 0;
    const w10 = xIn1 && yIn0 ? fx * (1 - fy) : 0;
    const w01 = xIn0 && yIn1 ? (1 - fx) * fy : 0;
    const w11 = xIn1 && yIn1 ? fx * fy : 0;
    const base = (y0 * w + x0) * c;
    for (let ch = 0; ch < c; ch++) {
      let v = 0;
      if (w00 !== 0) v += w00 * (src[base + ch] as number);
      if (w10 !== 0) v += w10 * (src[base + c + ch] as number);
      if (w01 !== 0) v += w01 * (src[base + w * c + ch] as number);
      if (w11 !== 0) v += w11 * (src[base + w * c + c + ch] as number);
      dst[i * c + ch] = v;
    }
  }
}

/** Reusable coordinate maps, one pair per image size (applyShift is synchronous, so no sharing). */
const mapCache = new Map<number, [Float64Array, Float64Array]>();
function coordinateMaps(n: number): [Float64Array, Float64Array] {
  let m = mapCache.get(n);
  if (!m) {
    if (mapCache.size > 8) mapCache.clear();
    m = [new Float64Array(n), new Float64Array(n)];
    mapCache.set(n, m);
  }
  return m;
}

function affine(
  src: Float32Array,
  dst: Float32Array,
  f: Frame,
  degrees: number,
  zoom: number,
  tx: number,
  ty: number,
): boolean {
  if (degrees === 0 && zoom === 1 && tx === 0 && ty === 0) return false;
  const cx = (f.w - 1) / 2;
  const cy = (f.h - 1) / 2;
  const t = (degrees * Math.PI) / 180;
  // Counter-clockwise on screen (y down): the inverse map rotates by +t in image coordinates.
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const [mx, my] = coordinateMaps(f.w * f.h);
  for (let y = 0, i = 0; y < f.h; y++) {
    const dy = (y - cy - ty) / zoom;
    for (let x = 0; x < f.w; x++, i++) {
      const dx = (x - cx - tx) / zoom;
      mx[i] = cos * dx - sin * dy + cx;
      my[i] = sin * dx + cos * dy + cy;
    }
  }
  warp(src, dst, f, mx, my);
  return true;
}

function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + r] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] = (k[i] as number) / sum;
  return k;
}

/** Separable gaussian blur, clamp-to-edge. Writes into dst, uses tmp. */
function blur(
  src: Float32Array,
  dst: Float32Array,
  tmp: Float32Array,
  f: Frame,
  sigma: number,
): void {
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const { w, h, c } = f;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = -r; i <= r; i++) {
          const xx = Math.min(w - 1, Math.max(0, x + i));
          s += (k[i + r] as number) * (src[(y * w + xx) * c + ch] as number);
        }
        tmp[(y * w + x) * c + ch] = s;
      }
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = -r; i <= r; i++) {
          const yy = Math.min(h - 1, Math.max(0, y + i));
          s += (k[i + r] as number) * (tmp[(yy * w + x) * c + ch] as number);
        }
        dst[(y * w + x) * c + ch] = s;
      }
    }
  }
}

function elastic(
  src: Float32Array,
  dst: Float32Array,
  f: Frame,
  rng: Rng,
  alpha: number,
  sigma: number,
): void {
  const one: Frame = { h: f.h, w: f.w, c: 1, range: 1 };
  const n = f.h * f.w;
  const field = (): Float32Array => {
    const raw = new Float32Array(n);
    for (let i = 0; i < n; i++) raw[i] = rng.uniform(-1, 1);
    const out = new Float32Array(n);
    blur(raw, out, new Float32Array(n), one, sigma);
    return out;
  };
  const fx = field();
  const fy = field();
  const [mx, my] = coordinateMaps(n);
  for (let y = 0, i = 0; y < f.h; y++) {
    for (let x = 0; x < f.w; x++, i++) {
      mx[i] = x + alpha * (fx[i] as number);
      my[i] = y + alpha * (fy[i] as number);
    }
  }
  warp(src, dst, f, mx, my);
}

/** Applies one leaf shift. Returns true when the result is in dst, false when src is unchanged. */
function applyLeaf(
  spec: Leaf,
  src: Float32Array,
  dst: Float32Array,
  tmp: Float32Array,
  f: Frame,
  rng: Rng,
): boolean {
  switch (spec.kind) {
    case 'rotate': {
      const [lo, hi] = spec.degrees ?? [-(spec.maxDegrees ?? 0), spec.maxDegrees ?? 0];
      return affine(src, dst, f, lo === hi ? lo : rng.uniform(lo, hi), 1, 0, 0);
    }
    case 'translate': {
      const m = spec.maxPixels ?? 0;
      const [xlo, xhi] = spec.x ?? [-m, m];
      const [ylo, yhi] = spec.y ?? [-m, m];
      const tx = xlo === xhi ? xlo : rng.uniform(xlo, xhi);
      const ty = ylo === yhi ? ylo : rng.uniform(ylo, yhi);
      return affine(src, dst, f, 0, 1, tx, ty);
    }
    case 'scale':
      return affine(
        src,
        dst,
        f,
        0,
        spec.min === spec.max ? spec.min : rng.uniform(spec.min, spec.max),
        0,
        0,
      );
    case 'noise': {
      if (spec.sigma === 0) return false;
      const s = spec.sigma * f.range;
      for (let i = 0; i < src.length; i++) dst[i] = (src[i] as number) + s * rng.normal();
      return true;
    }
    case 'invert': {
      const p = spec.probability ?? 1;
      if (p < 1 && rng.next() >= p) return false;
      for (let i = 0; i < src.length; i++) dst[i] = f.range - (src[i] as number);
      return true;
    }
    case 'blur': {
      const sigma =
        typeof spec.sigma === 'number' ? spec.sigma : rng.uniform(spec.sigma[0], spec.sigma[1]);
      if (sigma === 0) return false;
      blur(src, dst, tmp, f, sigma);
      return true;
    }
    case 'elastic':
      if (spec.alpha === 0) return false;
      elastic(src, dst, f, rng, spec.alpha, spec.sigma);
      return true;
  }
}

/**
 * Applies a domain shift to every image and returns a new dataset (labels and class names kept).
 * Per-image random parameters come from mulberry32 streams derived from `(seed, step, image index)`,
 * so the result is identical in every process and does not depend on batching. Uint8 in gives
 * Uint8 out (computed in float, rounded and clamped to 0..255 once at the end); Float32 in gives
 * Float32 out (not clamped). Geometric shifts sample bilinearly and fill with 0 outside the image.
 *
 * @param ds - the dataset
 * @param spec - the shift (see {@link ShiftSpec})
 * @param seed - a safe integer
 * @returns the shifted dataset
 * @throws DataError `INVALID_OPTION` for a bad spec or seed
 * @example
 * ```ts
 * const shifted = applyShift(next10k, { kind: 'rotate', maxDegrees: 15 }, 1);
 * ```
 */
export function applyShift(ds: ImageDataset, spec: ShiftSpec, seed: number): ImageDataset {
  validateShift(spec);
  checkSeed(seed, 'applyShift');
  const leaves = flatten(spec);
  const [n, h, w, c] = ds.shape;
  const size = imageSize(ds);
  const isFloat = ds.images instanceof Float32Array;
  const frame: Frame = { h, w, c, range: isFloat ? 1 : 255 };
  const out = isFloat ? new Float32Array(n * size) : new Uint8Array(n * size);
  let a = new Float32Array(size);
  let b = new Float32Array(size);
  const tmp = new Float32Array(size);
  for (let i = 0; i < n; i++) {
    const src = ds.images.subarray(i * size, (i + 1) * size);
    a.set(src);
    for (let s = 0; s < leaves.length; s++) {
      const rng = createRng(seed, s, i);
      if (applyLeaf(leaves[s] as Leaf, a, b, tmp, frame, rng)) [a, b] = [b, a];
    }
    if (isFloat) {
      out.set(a, i * size);
    } else {
      const base = i * size;
      for (let j = 0; j < size; j++) {
        const v = Math.round(a[j] as number);
        out[base + j] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return { images: out, shape: [n, h, w, c], labels: ds.labels.slice(), classNames: ds.classNames };
}
