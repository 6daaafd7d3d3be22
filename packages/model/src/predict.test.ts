import { initRuntime, tf } from '@mlship/tf';
import { beforeAll, describe, expect, it } from 'vitest';
import { pixelImages, pixelModel } from './internal/testing';
import { predict } from './predict';

beforeAll(async () => {
  await initRuntime();
});

describe('predict', () => {
  it('returns label, class index, probability and top-k per image', async () => {
    const model = pixelModel();
    const [a, b] = await predict(
      model,
      pixelImages([
        [255, 0],
        [0, 255],
      ]),
      { topK: 2 },
    );
    const p = 1 / (1 + Math.exp(-10));
    expect(a).toMatchObject({ label: 'first', classIndex: 0 });
    expect(a!.probability).toBeCloseTo(p, 5);
    expect(a!.topK.map((t) => t.label)).toEqual(['first', 'second']);
    expect(a!.topK[1]!.probability).toBeCloseTo(1 - p, 5);
    expect(b).toMatchObject({ label: 'second', classIndex: 1 });
    model.dispose();
  });

  it('takes labels and input scaling from model metadata; Float32 images are used as given', async () => {
    const model = pixelModel();
    const meta = {
      labels: ['x', 'y'],
      input: {
        shape: [2, 2, 1] as [number, number, number],
        dtype: 'float32' as const,
        scale: -1 / 255,
        offset: 1,
      },
    };
    // scale -1/255 + offset 1 inverts the pixels: pixel0 = 255 -> 0, so class 1 wins.
    const [inverted] = await predict(model, pixelImages([[255, 0]]), { meta, topK: 5 });
    expect(inverted).toMatchObject({ label: 'y', classIndex: 1 });
    expect(inverted!.topK).toHaveLength(2);
    const floats = { images: Float32Array.of(0.9, 0.1, 0, 0), shape: [1, 2, 2, 1] as const };
    const [asGiven] = await predict(model, floats, { meta, topK: 1 });
    expect(asGiven).toMatchObject({ label: 'x', classIndex: 0, topK: [{ label: 'x' }] });
    model.dispose();
  });

  it('uses the input scaling the model was built with when no meta is given', async () => {
    const model = pixelModel(-1 / 255, 1);
    const [inverted] = await predict(model, pixelImages([[255, 0]]));
    expect(inverted).toMatchObject({ classIndex: 1 });
    model.dispose();
  });

  it('predicts 10,000 images in bounded batches, the same as one-by-one, without leaking tensors', async () => {
    const model = pixelModel();
    const pairs = Array.from(
      { length: 10_000 },
      (_, i) => [(i * 37) % 256, (i * 91) % 256] as const,
    );
    const ds = pixelImages(pairs);
    const before = tf.memory().numTensors;
    const all = await predict(model, ds, { batchSize: 512 });
    expect(tf.memory().numTensors).toBe(before);
    expect(all).toHaveLength(10_000);
    const few = await predict(
      model,
      { images: ds.images.subarray(0, 40), shape: [10, 2, 2, 1] },
      { batchSize: 1 },
    );
    expect(few.map((p) => p.classIndex)).toEqual(all.slice(0, 10).map((p) => p.classIndex));
    for (const [i, p] of all.entries()) {
      const [a, b] = pairs[i]!;
      if (a !== b) expect(p.classIndex).toBe(a > b ? 0 : 1);
    }
    model.dispose();
  });

  it.each([
    [{ topK: 0 }, /^topK: expected a positive integer, got 0$/],
    [{ batchSize: -1 }, /^batchSize: expected a positive integer, got -1$/],
    [{ labels: ['only-one'] }, /^labels: expected 2 class names \(the model's outputs\), got 1$/],
  ])('rejects %o', async (options, message) => {
    const model = pixelModel();
    await expect(predict(model, pixelImages([[1, 2]]), options)).rejects.toThrow(message);
    model.dispose();
  });
});
