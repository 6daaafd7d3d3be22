import type { InputSpec } from '@mlship/core';
import { decodeImage, isDataError } from '@mlship/data';
import { badRequest } from './errors';

/** @internal What requests are checked against: the served version's signature. */
export interface Signature {
  input: InputSpec;
  /** Most images per request. */
  maxInstances: number;
  /** Largest decoded b64 image. */
  maxPixels: number;
}

/** @internal A batch of model inputs, row-major. */
export interface InputBatch {
  x: Float32Array;
  n: number;
}

const B64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'string') return `a string of ${v.length} characters`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint')
    return `${typeof v} ${String(v).slice(0, 20)}`;
  return typeof v;
}

function shapeText(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/** Whether `v` is `{ "b64": "..." }`. */
export function isB64(v: unknown): v is { b64: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.keys(v).length === 1 &&
    typeof (v as { b64?: unknown }).b64 === 'string'
  );
}

/** Decodes one base64 PNG/JPEG into row `row` of `out`, scaled per the signature. */
export function decodeB64Into(
  b64: string,
  sig: Signature,
  out: Float32Array,
  row: number,
  where: string,
): void {
  const text = b64.replace(/\s+/g, '');
  if (text.length === 0 || !B64.test(text))
    throw badRequest(
      `${where}: expected base64 PNG or JPEG bytes, got characters outside the base64 alphabet`,
      where,
    );
  const bytes = Buffer.from(
    text,
    text.includes('-') || text.includes('_') ? 'base64url' : 'base64',
  );
  const [h, w, c] = sig.input.shape;
  if (c !== 1 && c !== 3)
    throw badRequest(
      `${where}: this model takes ${c}-channel input, which cannot come from an image file`,
      where,
    );
  let pixels: Uint8Array;
  try {
    pixels = decodeImage(bytes, {
      channels: c,
      height: h,
      width: w,
      maxPixels: sig.maxPixels,
    }).pixels;
  } catch (e) {
    if (isDataError(e))
      throw badRequest(`${where}: ${e.message.replace(/^decodeImage: /, '')}`, where);
    throw e;
  }
  const { scale, offset } = sig.input;
  const base = row * h * w * c;
  for (let i = 0; i < pixels.length; i++) out[base + i] = (pixels[i] as number) * scale + offset;
}

/**
 * Writes a nested list of `shape` (finite numbers at the leaves) into `out` at `at`, checking every
 * level. The field path of a message (`instances[3][27][0]`) is built from `index` only when
 * something is wrong: building it for every row costs more than the copy.
 */
function nestedInto(
  v: unknown,
  shape: readonly number[],
  depth: number,
  out: Float32Array,
  at: number,
  base: string,
  index: number[],
): number {
  const want = shape[depth] as number;
  const where = (): string =>
    base +
    index
      .slice(0, depth)
      .map((i) => `[${i}]`)
      .join('');
  if (!Array.isArray(v) || v.length !== want) {
    throw badRequest(
      `${where()}: expected a list of ${want} (each instance has shape ${shapeText(shape)}), got ${describe(v)}`,
      where(),
    );
  }
  if (depth === shape.length - 1) {
    for (let i = 0; i < want; i++) {
      const x = v[i] as unknown;
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        const path = `${where()}[${i}]`;
        throw badRequest(`${path}: expected a finite number, got ${describe(x)}`, path);
      }
      out[at++] = x;
    }
    return at;
  }
  for (let i = 0; i < want; i++) {
    index[depth] = i;
    at = nestedInto(v[i], shape, depth + 1, out, at, base, index);
  }
  return at;
}

function checkCount(n: number, sig: Signature, where: string): void {
  if (n === 0) throw badRequest(`${where}: expected at least one instance, got none`, where);
  if (n > sig.maxInstances)
    throw badRequest(
      `${where}: ${n} instances exceed the limit of ${sig.maxInstances} per request`,
      where,
    );
}

/** One instance: a nested list (model input, float32) or `{"b64": ...}` (an image file), into row `row`. */
function instanceInto(
  v: unknown,
  sig: Signature,
  out: Float32Array,
  row: number,
  where: string,
): void {
  if (isB64(v)) return decodeB64Into(v.b64, sig, out, row, `${where}.b64`);
  const shape = sig.input.shape;
  nestedInto(v, shape, 0, out, row * shape[0] * shape[1] * shape[2], where, []);
}

function inputName(v: Record<string, unknown>, where: string): unknown {
  const keys = Object.keys(v);
  if (keys.length !== 1 || (keys[0] !== 'input' && keys[0] !== 'image'))
    throw badRequest(
      `${where}: expected the named input {"input": ...} (this model has one input, "input"), got keys ${JSON.stringify(keys.slice(0, 5))}`,
      where,
    );
  return v[keys[0] as string];
}

/**
 * TF Serving `instances` (row format): a list of instances, each a nested list in the input shape
 * (float32 model input), `{"b64": ...}` (a PNG/JPEG), or `{"input": <either>}`.
 */
export function fromInstances(instances: unknown, sig: Signature): InputBatch {
  if (!Array.isArray(instances))
    throw badRequest(
      `instances: expected a list of instances, got ${describe(instances)}`,
      'instances',
    );
  const n = instances.length;
  checkCount(n, sig, 'instances');
  const [h, w, c] = sig.input.shape;
  const x = new Float32Array(n * h * w * c);
  for (let i = 0; i < n; i++) {
    let v: unknown = instances[i];
    const where = `instances[${i}]`;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && !isB64(v))
      v = inputName(v as Record<string, unknown>, where);
    instanceInto(v, sig, x, i, where);
  }
  return { x, n };
}

/**
 * TF Serving `inputs` (columnar format): one tensor `[n, h, w, c]` as a nested list, a list of
 * `{"b64": ...}`, or `{"input": <either>}`.
 */
export function fromColumnar(inputs: unknown, sig: Signature): InputBatch {
  let v = inputs;
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && !isB64(v))
    v = inputName(v as Record<string, unknown>, 'inputs');
  if (isB64(v)) v = [v];
  if (!Array.isArray(v))
    throw badRequest(
      `inputs: expected a tensor of shape [n, ${sig.input.shape.join(', ')}], got ${describe(v)}`,
      'inputs',
    );
  const n = v.length;
  checkCount(n, sig, 'inputs');
  const [h, w, c] = sig.input.shape;
  const x = new Float32Array(n * h * w * c);
  for (let i = 0; i < n; i++) instanceInto(v[i], sig, x, i, `inputs[${i}]`);
  return { x, n };
}

/** The v2 datatypes this server takes. */
export type V2Datatype = 'FP32' | 'UINT8' | 'BYTES';

/**
 * One Open Inference Protocol v2 input tensor: `FP32` (model input values), `UINT8` (raw pixels,
 * scaled per mlship.json) with shape `[n, h, w, c]` and flat (or nested) row-major `data`, or
 * `BYTES` with shape `[n]` whose elements are base64 PNG/JPEG strings (or `{"b64": ...}`).
 */
export function fromV2Tensor(t: unknown, sig: Signature, where: string): InputBatch {
  if (typeof t !== 'object' || t === null || Array.isArray(t))
    throw badRequest(
      `${where}: expected a tensor {name, shape, datatype, data}, got ${describe(t)}`,
      where,
    );
  const o = t as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['name', 'shape', 'datatype', 'data', 'parameters'].includes(k))
      throw badRequest(
        `${where}: unknown key ${JSON.stringify(k).slice(0, 40)} (expected name, shape, datatype, data, parameters)`,
        where,
      );
  if (typeof o['name'] !== 'string')
    throw badRequest(
      `${where}.name: expected a string, got ${describe(o['name'])}`,
      `${where}.name`,
    );
  if (o['name'] !== 'input' && o['name'] !== 'image')
    throw badRequest(
      `${where}.name: expected "input" (the model's input), got ${JSON.stringify(o['name']).slice(0, 40)}`,
      `${where}.name`,
    );
  const shape = o['shape'];
  if (
    !Array.isArray(shape) ||
    !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= 1e9)
  )
    throw badRequest(
      `${where}.shape: expected a list of non-negative integers, got ${describe(shape)}`,
      `${where}.shape`,
    );
  const dt = o['datatype'];
  const data = o['data'];
  const [h, w, c] = sig.input.shape;
  if (dt === 'BYTES') {
    if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1)))
      throw badRequest(
        `${where}.shape: BYTES input takes shape [n] (one encoded image each), got ${shapeText(shape)}`,
        `${where}.shape`,
      );
    const n = shape[0] as number;
    checkCount(n, sig, `${where}.shape[0]`);
    const items = Array.isArray(data) ? data.flat() : data;
    if (!Array.isArray(items) || items.length !== n)
      throw badRequest(
        `${where}.data: expected ${n} base64 images, got ${describe(data)}`,
        `${where}.data`,
      );
    const x = new Float32Array(n * h * w * c);
    for (let i = 0; i < n; i++) {
      const item = items[i] as unknown;
      const b64 = typeof item === 'string' ? item : isB64(item) ? item.b64 : undefined;
      if (b64 === undefined)
        throw badRequest(
          `${where}.data[${i}]: expected a base64 string, got ${describe(item)}`,
          `${where}.data[${i}]`,
        );
      decodeB64Into(b64, sig, x, i, `${where}.data[${i}]`);
    }
    return { x, n };
  }
  if (dt !== 'FP32' && dt !== 'UINT8')
    throw badRequest(
      `${where}.datatype: expected FP32 (model input), UINT8 (raw pixels) or BYTES (encoded images), got ${JSON.stringify(dt).slice(0, 20)}`,
      `${where}.datatype`,
    );
  if (shape.length !== 4 || shape[1] !== h || shape[2] !== w || shape[3] !== c)
    throw badRequest(
      `${where}.shape: expected [n, ${h}, ${w}, ${c}], got ${shapeText(shape)}`,
      `${where}.shape`,
    );
  const n = shape[0] as number;
  checkCount(n, sig, `${where}.shape[0]`);
  if (!Array.isArray(data))
    throw badRequest(
      `${where}.data: expected a list of ${n * h * w * c} numbers, got ${describe(data)}`,
      `${where}.data`,
    );
  const flat = data.length === n * h * w * c ? data : data.flat(3);
  if (flat.length !== n * h * w * c)
    throw badRequest(
      `${where}.data: expected ${n * h * w * c} values for shape ${shapeText(shape)}, got ${flat.length}`,
      `${where}.data`,
    );
  const x = new Float32Array(n * h * w * c);
  const { scale, offset } = sig.input;
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i] as unknown;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw badRequest(
        `${where}.data[${i}]: expected a finite number, got ${describe(v)}`,
        `${where}.data[${i}]`,
      );
    if (dt === 'UINT8') {
      if (!Number.isInteger(v) || v < 0 || v > 255)
        throw badRequest(
          `${where}.data[${i}]: expected an integer 0..255 (UINT8), got ${v}`,
          `${where}.data[${i}]`,
        );
      x[i] = v * scale + offset;
    } else x[i] = v;
  }
  return { x, n };
}
