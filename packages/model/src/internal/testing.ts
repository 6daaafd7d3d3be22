import type { ImageDataset } from '@mlship/data';
import { tf } from '@mlship/tf';
import { buildModel } from '../build';
import type { ModelSpec } from '../spec';
import { createRng } from '@mlship/core';

/**
 * A learnable synthetic dataset for fast unit tests of the training mechanics: `size`x`size`x1
 * Uint8 images, class 0 has a bright left half, class 1 a bright right half, plus seeded noise.
 *
 * @internal Test fixture.
 */
export function halvesDataset(n: number, seed = 1, size = 8): ImageDataset {
  const rng = createRng(seed);
  const images = new Uint8Array(n * size * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    labels[i] = label;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const bright = x < size / 2 === (label === 0);
        images[i * size * size + y * size + x] = Math.round((bright ? 150 : 40) + rng.next() * 100);
      }
    }
  }
  return { images, shape: [n, size, size, 1], labels, classNames: ['left', 'right'] };
}

/** A tiny conv spec for {@link halvesDataset}-style inputs. @internal Test fixture. */
export function tinySpec(size = 8, classes = 2): ModelSpec {
  return {
    name: 'tiny',
    input: { shape: [size, size, 1], dtype: 'float32', scale: 1 / 255, offset: 0 },
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
      { type: 'maxPooling2d', poolSize: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 8, activation: 'relu' },
      { type: 'dense', units: classes, activation: 'softmax' },
    ],
    classes,
  };
}

/**
 * A 2x2x1 -> 2-class spec whose weights {@link setPixelWeights} makes interpretable: class 0 when
 * pixel 0 is brighter than pixel 1, else class 1.
 *
 * @internal Test fixture.
 */
export function pixelSpec(): ModelSpec {
  return {
    name: 'pixel',
    input: { shape: [2, 2, 1], dtype: 'float32', scale: 1 / 255, offset: 0 },
    layers: [{ type: 'flatten' }, { type: 'dense', units: 2, activation: 'softmax' }],
    classes: 2,
  };
}

/** Raw 2x2 images from `[pixel0, pixel1]` pairs (pixels 2 and 3 are 0). @internal Test fixture. */
export function pixelImages(
  pairs: readonly (readonly [number, number])[],
  labels?: readonly number[],
): ImageDataset {
  const images = new Uint8Array(pairs.length * 4);
  pairs.forEach(([a, b], i) => {
    images[i * 4] = a;
    images[i * 4 + 1] = b;
  });
  return {
    images,
    shape: [pairs.length, 2, 2, 1],
    labels: Int32Array.from(labels ?? pairs.map(() => 0)),
    classNames: ['first', 'second'],
  };
}

/**
 * The {@link pixelSpec} model with class 0 logit = 10 * pixel0 and class 1 logit = 10 * pixel1
 * (pixels scaled to 0..1).
 *
 * @internal Test fixture.
 */
export function pixelModel(scale = 1 / 255, offset = 0): tf.LayersModel {
  const spec = pixelSpec();
  const model = buildModel({ ...spec, input: { ...spec.input, scale, offset } });
  tf.tidy(() =>
    model.getLayer('head_output').setWeights([
      tf.tensor2d([
        [10, 0],
        [0, 10],
        [0, 0],
        [0, 0],
      ]),
      tf.zeros([2]),
    ]),
  );
  return model;
}
