import type { ImageDataset } from '@mlship/data';
import { tf } from '@mlship/tf';
import { ModelError } from '../errors';
import type { InputSpec } from '@mlship/core';

const knownInputs = new WeakMap<tf.LayersModel, InputSpec>();

/**
 * Remembers the input spec a model was built or loaded with, so callers need not repeat it.
 *
 * @internal
 */
export function rememberInputSpec(model: tf.LayersModel, input: InputSpec): void {
  knownInputs.set(model, {
    shape: [...input.shape],
    dtype: 'float32',
    scale: input.scale,
    offset: input.offset,
  });
}

/**
 * The input spec of a model: from the caller, else the one it was built (spec) or loaded (mlship.json)
 * with, else derived from the model's input shape with the default scaling (1/255).
 *
 * @internal
 */
export function inputSpecOf(model: tf.LayersModel, given?: InputSpec): InputSpec {
  if (given !== undefined) return given;
  const known = knownInputs.get(model);
  if (known !== undefined) return known;
  const shape = model.inputs[0]?.shape ?? [];
  const [, h, w, c] = shape;
  if (
    shape.length !== 4 ||
    typeof h !== 'number' ||
    typeof w !== 'number' ||
    typeof c !== 'number'
  ) {
    throw new ModelError(
      'INVALID_DATA',
      `model ${model.name}: expected an image model with input [batch, height, width, channels], got [${shape.join(', ')}]`,
    );
  }
  return { shape: [h, w, c], dtype: 'float32', scale: 1 / 255, offset: 0 };
}

/**
 * Checks that a dataset fits a model input (and class count, if given).
 *
 * @internal
 */
export function checkDataset(
  ds: ImageDataset,
  input: InputSpec,
  what: string,
  classes?: number,
  checkLabels = true,
): void {
  const [n, h, w, c] = ds.shape;
  const [eh, ew, ec] = input.shape;
  if (h !== eh || w !== ew || c !== ec) {
    throw new ModelError(
      'INVALID_DATA',
      `${what}.shape: expected [n, ${eh}, ${ew}, ${ec}] (the model input), got [${ds.shape.join(', ')}]`,
      {
        data: { path: `${what}.shape` },
      },
    );
  }
  if (!Number.isInteger(n) || n <= 0) {
    throw new ModelError(
      'INVALID_DATA',
      `${what}.shape[0]: expected at least one image, got ${n}`,
      { data: { path: `${what}.shape` } },
    );
  }
  if (ds.images.length !== n * h * w * c) {
    throw new ModelError(
      'INVALID_DATA',
      `${what}.images: expected ${n * h * w * c} values (${ds.shape.join('x')}), got ${ds.images.length}`,
      {
        data: { path: `${what}.images` },
      },
    );
  }
  if (!checkLabels) return;
  if (ds.labels.length !== n) {
    throw new ModelError(
      'INVALID_DATA',
      `${what}.labels: expected ${n} labels, got ${ds.labels.length}`,
      { data: { path: `${what}.labels` } },
    );
  }
  if (classes !== undefined) {
    for (let i = 0; i < n; i++) {
      const label = ds.labels[i]!;
      if (!(label >= 0 && label < classes)) {
        throw new ModelError(
          'INVALID_DATA',
          `${what}.labels[${i}]: expected a class index in [0, ${classes}), got ${label}`,
          {
            data: { path: `${what}.labels[${i}]` },
          },
        );
      }
    }
  }
}

/**
 * Copies images `order[start..start+count)` of `ds` into `out` as model input floats: Uint8 pixels
 * are scaled by `input.scale`/`input.offset`, Float32 images are taken as already scaled.
 *
 * @internal
 */
export function fillImages(
  ds: ImageDataset,
  order: Uint32Array | null,
  start: number,
  count: number,
  input: InputSpec,
  out: Float32Array,
): void {
  const size = ds.shape[1] * ds.shape[2] * ds.shape[3];
  const src = ds.images;
  const { scale, offset } = input;
  if (src instanceof Float32Array) {
    if (order === null) {
      out.set(src.subarray(start * size, (start + count) * size));
      return;
    }
    for (let i = 0; i < count; i++) {
      const from = order[start + i]! * size;
      out.set(src.subarray(from, from + size), i * size);
    }
    return;
  }
  for (let i = 0; i < count; i++) {
    const from = (order === null ? start + i : order[start + i]!) * size;
    const to = i * size;
    for (let j = 0; j < size; j++) out[to + j] = src[from + j]! * scale + offset;
  }
}

/**
 * Builds the input tensor of one batch (the caller disposes it).
 *
 * @internal
 */
export function imageBatch(
  ds: ImageDataset,
  order: Uint32Array | null,
  start: number,
  count: number,
  input: InputSpec,
): tf.Tensor4D {
  const buf = new Float32Array(count * ds.shape[1] * ds.shape[2] * ds.shape[3]);
  fillImages(ds, order, start, count, input, buf);
  return tf.tensor4d(buf, [count, ds.shape[1], ds.shape[2], ds.shape[3]], 'float32');
}

/**
 * Labels `order[start..start+count)` as an Int32Array.
 *
 * @internal
 */
export function labelBatch(
  ds: ImageDataset,
  order: Uint32Array | null,
  start: number,
  count: number,
): Int32Array {
  if (order === null) return ds.labels.slice(start, start + count);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = ds.labels[order[start + i]!]!;
  return out;
}

/**
 * Images `[from, to)` of `ds` as views (subarrays): no pixels are copied.
 *
 * @internal
 */
export function subset(ds: ImageDataset, from: number, to: number): ImageDataset {
  const size = ds.shape[1] * ds.shape[2] * ds.shape[3];
  return {
    images: ds.images.subarray(from * size, to * size),
    shape: [to - from, ds.shape[1], ds.shape[2], ds.shape[3]],
    labels: ds.labels.subarray(from, to),
    classNames: ds.classNames,
  };
}
