import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprint, loadMnist, take } from '@mlship/data';
import { initRuntime, tf } from '@mlship/tf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildModel,
  defaultCnnSpec,
  evaluate,
  loadModelDir,
  predict,
  readModelMeta,
  saveModelDir,
  train,
} from '../src/index';

// End-to-end on the default backend (whatever initRuntime picks: wasm with mlship's training kernels here).
let root: string;

beforeAll(async () => {
  await initRuntime();
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'mlship-model-e2e-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('default CNN on MNIST (e2e)', () => {
  it('trains on 2,000 images for 2 epochs to >= 90 % on 1,000 test images, saves, reloads and predicts the same', async () => {
    const trainSet = take(await loadMnist({ split: 'train' }), 2_000);
    const testSet = take(await loadMnist({ split: 'test' }), 1_000);
    const spec = defaultCnnSpec();
    const model = buildModel(spec, { seed: 1 });
    const before = tf.memory().numTensors;
    const result = await train(model, trainSet, {
      epochs: 2,
      batchSize: 16,
      learningRate: 0.002,
      seed: 1,
      input: spec.input,
    });
    expect(tf.memory().numTensors).toBe(before);
    const evaluation = await evaluate(model, testSet, { input: spec.input });
    expect(evaluation.accuracy).toBeGreaterThanOrEqual(0.9);

    const dir = path.join(root, 'cnn-v1');
    await saveModelDir(model, dir, {
      labels: trainSet.classNames,
      spec,
      training: result.params,
      history: result.history,
      metrics: { accuracy: evaluation.accuracy, loss: evaluation.loss },
      metricsDataset: 'test',
      datasets: { train: trainSet, test: testSet },
    });
    const meta = await readModelMeta(dir);
    expect(meta.datasets['train']).toEqual({ fingerprint: fingerprint(trainSet), count: 2_000 });
    expect(meta.history).toHaveLength(2);

    const loaded = await loadModelDir(dir);
    const original = await predict(model, testSet, { meta: loaded.meta });
    const reloaded = await predict(loaded.model, testSet, { meta: loaded.meta });
    expect(reloaded).toEqual(original);
    expect((await evaluate(loaded.model, testSet, { input: loaded.meta.input })).accuracy).toBe(
      evaluation.accuracy,
    );
    model.dispose();
    loaded.model.dispose();
  }, 300_000);
});
