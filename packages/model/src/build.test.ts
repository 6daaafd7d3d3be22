import { initRuntime, tf } from '@mlship/tf';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, freeze, layersOf, unfreeze } from './build';
import { defaultCnnSpec, modelASpec } from './default-cnn';
import type { ModelSpec } from './spec';
import { tinySpec } from './internal/testing';

beforeAll(async () => {
  await initRuntime();
});

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

describe('buildModel', () => {
  it('builds model A with its documented layers, shapes and parameter count', () => {
    const model = buildModel(modelASpec(), { seed: 1 });
    expect(model.layers.map((l) => l.name)).toEqual([
      'input',
      'features_conv1',
      'features_pool1',
      'features_conv2',
      'features_pool2',
      'features_flatten',
      'head_dense1',
      'head_output',
    ]);
    expect(model.inputs[0]!.shape).toEqual([null, 28, 28, 1]);
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    // 3*3*1*32+32 + 3*3*32*64+64 + 5*5*64*128+128 + 128*10+10
    expect(model.countParams()).toBe(320 + 18_496 + 204_928 + 1_290);
    model.dispose();
  });

  it('gives bit-identical weights for the same spec and seed, different ones for another seed', () => {
    const spec = tinySpec();
    const a = buildModel(spec, { seed: 7 });
    const b = buildModel(JSON.parse(JSON.stringify(spec)) as ModelSpec, { seed: 7 });
    const c = buildModel(spec, { seed: 8 });
    expect(weightsOf(b)).toEqual(weightsOf(a));
    expect(weightsOf(c)[0]).not.toEqual(weightsOf(a)[0]);
    for (const m of [a, b, c]) m.dispose();
  });

  it('outputs a probability distribution for every image', () => {
    const model = buildModel(
      defaultCnnSpec({
        input: { shape: [12, 12, 3] },
        convFilters: [4],
        batchNorm: true,
        headDropout: 0.5,
        classes: 3,
      }),
    );
    const probs = tf.tidy(
      () =>
        (model.predict(tf.randomUniform([5, 12, 12, 3], 0, 1, 'float32', 1)) as tf.Tensor)
          .sum(-1)
          .arraySync() as number[],
    );
    for (const p of probs) expect(p).toBeCloseTo(1, 5);
    model.dispose();
  });

  it.each([[1.5], [Number.NaN]])('rejects the seed %s', (seed) => {
    expect(() => buildModel(tinySpec(), { seed })).toThrow(/^seed: expected an integer, got/);
  });

  it('rejects an invalid spec with INVALID_SPEC', () => {
    expect(() => buildModel({ ...tinySpec(), classes: 3 })).toThrow(
      /layers\[4\]\.units: expected 3 \(classes\)/,
    );
  });
});

describe('layersOf / freeze / unfreeze', () => {
  it('addresses the feature part and the head by name, and freezing stops their weights from being trainable', () => {
    const model = buildModel(modelASpec());
    expect(layersOf(model, 'features').map((l) => l.name)).toEqual([
      'features_conv1',
      'features_pool1',
      'features_conv2',
      'features_pool2',
      'features_flatten',
    ]);
    expect(layersOf(model, 'head').map((l) => l.name)).toEqual(['head_dense1', 'head_output']);
    expect(model.trainableWeights).toHaveLength(8);
    expect(freeze(model, 'features')).toHaveLength(5);
    expect(model.trainableWeights.map((w) => w.originalName)).toEqual([
      'head_dense1/kernel',
      'head_dense1/bias',
      'head_output/kernel',
      'head_output/bias',
    ]);
    unfreeze(model, ['features_conv2']);
    expect(model.trainableWeights).toHaveLength(6);
    expect(() => freeze(model, ['nope'])).toThrow(
      /^layers: expected names of layers of the model, got "nope"$/,
    );
    expect(() => layersOf(model, 'body' as never)).toThrow(
      /^part: expected 'features' or 'head', got "body"$/,
    );
    model.dispose();
  });
});
