import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fingerprint } from '@mlship/data';
import { loadModelDir, readModelMeta } from '@mlship/model';
import type { tf } from '@mlship/tf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBase } from '../src/base';
import type { TransferBase } from '../src/base';
import { prepareModel } from '../src/prepare';
import type { Strategy } from '../src/strategy';
import { transfer } from '../src/transfer';
import type { Fixture } from './helpers';
import { fixture, layerWeights, maxAbsDiff, twoClassTarget } from './helpers';

const FEATURES = ['features_conv1', 'features_conv2'];
const HEAD = ['head_dense1', 'head_output'];

let fx: Fixture;
let base: TransferBase;

beforeAll(async () => {
  fx = await fixture();
  base = await loadBase(fx.baseDir);
});
afterAll(async () => {
  base?.model.dispose();
  await fx?.cleanup();
});

describe('freeze', () => {
  it('leaves the frozen weights bit-identical after training while the head changes', async () => {
    const r = await transfer(base, { kind: 'freeze' }, fx.data, { budget: { epochs: 2 }, seed: 1 });
    for (const name of FEATURES) {
      expect(layerWeights(r.model, name)).toEqual(layerWeights(base.model, name));
    }
    for (const name of HEAD) {
      expect(
        maxAbsDiff(layerWeights(r.model, name), layerWeights(base.model, name)),
      ).toBeGreaterThan(1e-4);
    }
    expect(r.frozenLayers).toEqual([
      'features_conv1',
      'features_pool1',
      'features_conv2',
      'features_pool2',
      'features_flatten',
    ]);
    // conv1 3*3*1*4+4 = 40, conv2 3*3*4*8+8 = 296; dense1 200*16+16 = 3216, output 16*10+10 = 170
    expect(r.parameters).toEqual({ trainable: 3386, frozen: 336, total: 3722 });
    expect(r.history).toHaveLength(2);
    expect(r.test!.accuracy).toBeGreaterThan(0.1);
    r.model.dispose();
  });

  it.each<[string, unknown, string[]]>([
    ['every conv2d (by type)', { type: 'conv2d' }, ['features_conv1', 'features_conv2']],
    ['by name', { name: ['features_conv2'] }, ['features_conv2']],
    ['an index range', { range: [0, 2] }, ['features_conv1', 'features_pool1']],
    [
      'a union',
      [{ name: 'head_dense1' }, { type: 'Conv2D' }],
      ['features_conv1', 'features_conv2', 'head_dense1'],
    ],
  ])('freezes a selection %s and trains only the rest', async (_what, layers, frozen) => {
    const r = await transfer(base, { kind: 'freeze', layers } as Strategy, fx.data, {
      budget: { epochs: 1 },
    });
    expect(r.frozenLayers).toEqual(frozen);
    for (const name of frozen) {
      expect(layerWeights(r.model, name)).toEqual(layerWeights(base.model, name));
    }
    expect(
      maxAbsDiff(layerWeights(r.model, 'head_output'), layerWeights(base.model, 'head_output')),
    ).toBeGreaterThan(0);
    r.model.dispose();
  });
});

describe('scratch', () => {
  it('gives the base topology fresh weights before training: different from the base, the same for the same seed', async () => {
    const a = await prepareModel(
      base,
      { kind: 'scratch' },
      { seed: 5, classes: 10, path: 'strategy' },
    );
    const b = await prepareModel(
      base,
      { kind: 'scratch' },
      { seed: 5, classes: 10, path: 'strategy' },
    );
    const c = await prepareModel(
      base,
      { kind: 'scratch' },
      { seed: 6, classes: 10, path: 'strategy' },
    );
    expect(a.model.layers.map((l) => [l.name, l.getClassName()])).toEqual(
      base.model.layers.map((l) => [l.name, l.getClassName()]),
    );
    for (const name of [...FEATURES, ...HEAD]) {
      const kernel = (m: tf.LayersModel): Float32Array[] => layerWeights(m, name).slice(0, 1);
      expect(maxAbsDiff(kernel(a.model), kernel(base.model))).toBeGreaterThan(1e-3);
      expect(kernel(a.model)).toEqual(kernel(b.model));
      expect(maxAbsDiff(kernel(a.model), kernel(c.model))).toBeGreaterThan(1e-3);
    }
    expect(a.model.trainableWeights).toHaveLength(a.model.weights.length);
    for (const p of [a, b, c]) p.model.dispose();
  });

  it('trains from those fresh weights and leaves the base untouched', async () => {
    const before = base.model
      .getWeights()
      .map((w) => Float32Array.from(w.dataSync() as Float32Array));
    const r = await transfer(base, { kind: 'scratch' }, fx.data, {
      budget: { epochs: 1 },
      seed: 5,
    });
    expect(r.parameters).toEqual({ trainable: 3722, frozen: 0, total: 3722 });
    expect(
      base.model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array)),
    ).toEqual(before);
    r.model.dispose();
  });
});

describe('featureCache', () => {
  // Same seed = same batch order and the same starting weights: the heads follow the same path, and
  // differ only by float rounding (features computed in batches of 256 instead of 32).
  const TOLERANCE = 1e-4;

  it(`trains the same head as freeze for the same seed (max |difference| <= ${TOLERANCE}), frozen layers untouched`, async () => {
    const opts = { budget: { epochs: 2 }, seed: 3 } as const;
    const frozen = await transfer(base, { kind: 'freeze' }, fx.data, opts);
    const cached = await transfer(base, { kind: 'featureCache' }, fx.data, opts);
    for (const name of HEAD) {
      expect(
        maxAbsDiff(layerWeights(cached.model, name), layerWeights(frozen.model, name)),
      ).toBeLessThanOrEqual(TOLERANCE);
      expect(
        maxAbsDiff(layerWeights(cached.model, name), layerWeights(base.model, name)),
      ).toBeGreaterThan(1e-4);
    }
    for (const name of FEATURES) {
      expect(layerWeights(cached.model, name)).toEqual(layerWeights(base.model, name));
    }
    expect(cached.parameters).toEqual(frozen.parameters);
    expect(Math.abs(cached.test!.accuracy - frozen.test!.accuracy)).toBeLessThanOrEqual(0.01);
    cached.history.forEach((h, i) => {
      expect(h.valAccuracy).toBeCloseTo(frozen.history[i]!.valAccuracy!, 2);
    });
    // The reassembled model is a whole model: it takes images and is saved like any other.
    expect(cached.model.inputs[0]!.shape).toEqual([null, 28, 28, 1]);
    frozen.model.dispose();
    cached.model.dispose();
  });

  it('refuses a selection that is not a prefix of the model, naming the layer that breaks it', async () => {
    await expect(
      transfer(base, { kind: 'featureCache', layers: { name: 'features_conv2' } }, fx.data),
    ).rejects.toMatchObject({
      code: 'INVALID_STRATEGY',
      message: expect.stringMatching(/prefix.*"features_conv1" comes before "features_conv2"/),
      data: { path: 'strategy.layers', layer: 'features_conv1' },
    });
  });
});

describe('frozen BatchNormalization', () => {
  let bn: Fixture;
  beforeAll(async () => {
    bn = await fixture({ batchNorm: true });
  });
  afterAll(async () => bn?.cleanup());

  const stats = (m: tf.LayersModel): Float32Array[] =>
    m
      .getLayer('features_bn1')
      .weights.filter((w) => /moving_(mean|variance)/.test(w.name))
      .map((w) => Float32Array.from(w.read().dataSync() as Float32Array));

  it('keeps the moving statistics of frozen BatchNormalization layers (fine-tuning moves them)', async () => {
    const b = await loadBase(bn.baseDir);
    const before = stats(b.model);
    expect(before).toHaveLength(2); // moving mean and variance
    const frozen = await transfer(b, { kind: 'freeze' }, bn.data, { budget: { epochs: 1 } });
    expect(stats(frozen.model)).toEqual(before);
    const tuned = await transfer(b, { kind: 'fineTune' }, bn.data, { budget: { epochs: 1 } });
    expect(maxAbsDiff(stats(tuned.model), before)).toBeGreaterThan(0);
    // The moving statistics count as frozen parameters (Keras' convention).
    expect(tuned.parameters.frozen).toBe(2 * 4 + 2 * 8);
    for (const m of [frozen.model, tuned.model, b.model]) m.dispose();
  });
});

describe('replaceHead', () => {
  it('gives the new class count, keeps the features and records the new spec', async () => {
    const target = await twoClassTarget();
    const out = path.join(fx.root, 'two-class');
    const r = await transfer(
      base,
      { kind: 'replaceHead' },
      { train: target, test: target },
      {
        budget: { epochs: 1 },
        outDir: out,
      },
    );
    expect(r.model.outputs[0]!.shape).toEqual([null, 2]);
    for (const name of FEATURES) {
      expect(layerWeights(r.model, name)).toEqual(layerWeights(base.model, name));
    }
    expect(r.strategy).toMatchObject({
      kind: 'replaceHead',
      classes: 2,
      head: 'head',
      train: 'head',
    });
    expect(r.test!.accuracy).toBeGreaterThan(0.5);
    const { model, meta } = await loadModelDir(out);
    expect(meta.labels).toEqual(['0', '1']);
    expect(meta.spec?.classes).toBe(2);
    expect(model.outputs[0]!.shape).toEqual([null, 2]);
    model.dispose();
    r.model.dispose();
  });
});

describe('twoPhase', () => {
  it('trains the head first, then everything at the fine-tune learning rate', async () => {
    const r = await transfer(base, { kind: 'twoPhase', fineTuneLearningRate: 0.0002 }, fx.data, {
      budget: { epochs: 4 },
      learningRate: 0.002,
    });
    expect(r.history.map((h) => [h.phase, h.learningRate])).toEqual([
      [1, 0.002],
      [1, 0.002],
      [2, 0.0002],
      [2, 0.0002],
    ]);
    expect(r.parameters.trainable).toBe(3386);
    expect(r.phase2Parameters).toEqual({ trainable: 3722, frozen: 0, total: 3722 });
    expect(
      maxAbsDiff(
        layerWeights(r.model, 'features_conv1'),
        layerWeights(base.model, 'features_conv1'),
      ),
    ).toBeGreaterThan(0);
    r.model.dispose();
  });
});

describe('mlship.json', () => {
  it('records the strategy with its options, the parent and the datasets fingerprints', async () => {
    const out = path.join(fx.root, 'frozen-convs');
    const strategy: Strategy = { kind: 'freeze', layers: { type: 'conv2d' }, learningRate: 0.002 };
    const r = await transfer(fx.baseDir, strategy, fx.data, {
      budget: { epochs: 1 },
      seed: 2,
      outDir: out,
      parent: 'cnn@v1.0.0',
    });
    const meta = await readModelMeta(out);
    expect(meta.strategy).toEqual({
      kind: 'freeze',
      layers: { type: 'conv2d' },
      learningRate: 0.002,
    });
    expect(meta.parent).toBe('cnn@v1.0.0');
    expect(meta.datasets).toEqual({
      train: { fingerprint: fingerprint(fx.data.train), count: 300 },
      validation: { fingerprint: fingerprint(fx.data.validation), count: 100 },
      test: { fingerprint: fingerprint(fx.data.test), count: 100 },
    });
    expect(meta.metrics['accuracy']).toBe(r.test!.accuracy);
    expect(meta.training).toMatchObject({
      seed: 2,
      epochs: 1,
      transfer: {
        frozenLayers: ['features_conv1', 'features_conv2'],
        parameters: { trainable: 3386 },
      },
    });
    const parentless = await transfer(fx.baseDir, { kind: 'fineTune' }, fx.data, {
      budget: { epochs: 1 },
      outDir: path.join(fx.root, 'parent-default'),
    });
    expect((await readModelMeta(path.join(fx.root, 'parent-default'))).parent).toBe(fx.baseDir);
    r.model.dispose();
    parentless.model.dispose();
  });
});

describe('budget and abort', () => {
  it('stops a wall-seconds budget before an epoch that would overrun it', async () => {
    let t = 0;
    const now = (): number => (t += 1000); // every clock reading is one second later
    const r = await transfer(base, { kind: 'fineTune' }, fx.data, {
      budget: { seconds: 4.5, maxEpochs: 10 },
      now,
    });
    // ready at 1 s; epochs end at 2, 3, 4 s; a fourth would end at 5 s > 4.5 s
    expect(r.history.map((h) => h.elapsed)).toEqual([2, 3, 4]);
    r.model.dispose();
  });

  it('aborts with ABORTED and saves nothing', async () => {
    const controller = new AbortController();
    const out = path.join(fx.root, 'aborted');
    await expect(
      transfer(base, { kind: 'fineTune' }, fx.data, {
        budget: { epochs: 3 },
        signal: controller.signal,
        outDir: out,
        onEpochEnd: () => controller.abort(),
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(fs.stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('errors', () => {
  it.each<[string, unknown, RegExp, Record<string, unknown>]>([
    [
      'an unknown kind',
      { kind: 'freez' },
      /strategy\.kind: expected one of 'scratch'/,
      { path: 'strategy.kind' },
    ],
    [
      'an unknown field',
      { kind: 'freeze', layer: 'features' },
      /strategy\.layer: unknown field/,
      { path: 'strategy.layer' },
    ],
    [
      'a layer name the base lacks',
      { kind: 'freeze', layers: { name: ['features_conv1', 'features_conv9'] } },
      /strategy\.layers\.name\[1\]: "features_conv9" is not a layer of model "cnn"/,
      { path: 'strategy.layers.name[1]', layer: 'features_conv9' },
    ],
    [
      'a type no layer has',
      { kind: 'twoPhase', layers: { type: 'lstm' } },
      /strategy\.layers\.type: type "lstm" matches no layer/,
      { path: 'strategy.layers.type' },
    ],
    [
      'a range past the last layer',
      { kind: 'freeze', layers: { range: [2, 40] } },
      /strategy\.layers\.range: \[2, 40\] reaches past the last layer \(there are 7/,
      { path: 'strategy.layers.range' },
    ],
    [
      'a head without the output layer',
      { kind: 'replaceHead', head: { name: 'head_dense1' } },
      /strategy\.head: expected a selection that includes the model's output layer/,
      { path: 'strategy.head', layer: 'head_output' },
    ],
    [
      'a selection freezing every layer',
      { kind: 'freeze', layers: { range: [0, 7] } },
      /freezes every layer with weights/,
      { path: 'strategy.layers' },
    ],
  ])(
    'refuses %s with INVALID_STRATEGY naming the field',
    async (_what, strategy, message, data) => {
      await expect(transfer(base, strategy as Strategy, fx.data)).rejects.toMatchObject({
        name: 'TransferError',
        code: 'INVALID_STRATEGY',
        message: expect.stringMatching(message),
        data,
      });
    },
  );

  it('refuses a target with another class count unless the head is replaced', async () => {
    const target = await twoClassTarget();
    await expect(transfer(base, { kind: 'fineTune' }, { train: target })).rejects.toMatchObject({
      code: 'INCOMPATIBLE_DATA',
      message: expect.stringMatching(
        /2 classes, but base model "cnn" has 10 outputs; use a 'replaceHead'/,
      ),
    });
  });

  it('refuses an unknown option, naming it', async () => {
    await expect(
      transfer(base, { kind: 'fineTune' }, fx.data, { epochs: 3 } as never),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/unknown option "epochs"/),
    });
  });

  it('reports a base directory that is not a model directory', async () => {
    await expect(
      transfer(path.join(fx.root, 'nowhere'), { kind: 'fineTune' }, fx.data),
    ).rejects.toMatchObject({ name: 'TransferError', code: 'NOT_A_MODEL_DIR' });
  });
});
