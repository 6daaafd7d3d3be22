import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprint } from '@mlship/data';
import { initRuntime, tf } from '@mlship/tf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, freeze, unfreeze } from '../src/build';
import { defaultCnnSpec } from '../src/default-cnn';
import { isModelError } from '../src/errors';
import { halvesDataset, tinySpec } from '../src/internal/testing';
import type { EpochStats } from '@mlship/core';
import { readModelMeta } from '../src/model-dir';
import type { TrainProgress } from '../src/train/types';
import { train } from '../src/train/train';

const spec = tinySpec();
const data = halvesDataset(64, 1);
let root: string;

beforeAll(async () => {
  await initRuntime();
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'mlship-train-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const weights = (model: tf.LayersModel): number[][] =>
  model.getWeights().map((w) => Array.from(w.dataSync()));

async function dirHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await fs.readdir(dir)).sort())
    out[name] = createHash('sha256')
      .update(await fs.readFile(path.join(dir, name)))
      .digest('hex');
  return out;
}

describe('train', () => {
  it('learns, reports per-epoch history and progress, and leaves no tensors behind', async () => {
    const model = buildModel(spec, { seed: 1 });
    const before = tf.memory().numTensors;
    const progress: TrainProgress[] = [];
    const counts: number[] = [];
    const result = await train(model, data, {
      epochs: 4,
      batchSize: 8,
      learningRate: 0.01,
      input: spec.input,
      progressEvery: 3,
      onProgress: (p) => progress.push(p),
      onEpochEnd: () => {
        counts.push(tf.memory().numTensors);
      },
    });
    expect(result.history).toHaveLength(4);
    expect(result.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
    for (const h of result.history) {
      expect(h).toEqual({
        epoch: h.epoch,
        loss: expect.any(Number),
        accuracy: expect.any(Number),
        learningRate: 0.01,
        seconds: expect.any(Number),
        imagesPerSec: expect.any(Number),
      });
      expect(h.imagesPerSec).toBeGreaterThan(0);
    }
    expect(result.history[3]!.loss).toBeLessThan(result.history[0]!.loss);
    expect(result.history[3]!.accuracy).toBeGreaterThanOrEqual(0.9);
    // 8 batches per epoch, events at batches 3, 6 and 8
    expect(progress.filter((p) => p.epoch === 1).map((p) => p.batch)).toEqual([3, 6, 8]);
    expect(progress.at(-1)).toMatchObject({
      epoch: 4,
      epochs: 4,
      batch: 8,
      batches: 8,
      images: 64,
    });
    // memory stays flat across epochs (optimizer slots exist from the first step on) ...
    expect(counts[2]).toBe(counts[0]);
    // ... and the optimizer is released at the end
    expect(tf.memory().numTensors).toBe(before);
    expect(result.params).toMatchObject({
      optimizer: 'adam',
      learningRate: 0.01,
      epochs: 4,
      batchSize: 8,
      seed: 0,
      shuffle: true,
      trainCount: 64,
      validationCount: 0,
    });
    expect(JSON.parse(JSON.stringify(result.params))).toEqual(result.params);
    model.dispose();
  });

  it('is reproducible: same spec seed and shuffle seed give the same history', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const model = buildModel(spec, { seed: 2 });
      const { history } = await train(model, data, {
        epochs: 2,
        batchSize: 16,
        seed,
        input: spec.input,
      });
      model.dispose();
      return history.map((h) => h.loss);
    };
    const a = await run(5);
    expect(await run(5)).toEqual(a);
    expect(await run(6)).not.toEqual(a);
  });

  it('validates on a held-out split and follows the learning-rate schedule', async () => {
    const model = buildModel(spec, { seed: 1 });
    const result = await train(model, data, {
      epochs: 3,
      batchSize: 16,
      validationSplit: 0.25,
      optimizer: 'sgd',
      learningRate: 0.1,
      schedule: { type: 'step', every: 1, factor: 0.5 },
      input: spec.input,
    });
    expect(result.history.map((h) => h.learningRate)).toEqual([0.1, 0.05, 0.025]);
    expect(
      result.history.every(
        (h) => typeof h.valLoss === 'number' && typeof h.valAccuracy === 'number',
      ),
    ).toBe(true);
    expect(result.params).toMatchObject({
      trainCount: 48,
      validationCount: 16,
      validationSplit: 0.25,
      schedule: { type: 'step', every: 1, factor: 0.5 },
    });
    model.dispose();
  });

  it('stops early after `patience` epochs without improvement and restores the best weights', async () => {
    const model = buildModel(spec, { seed: 1 });
    const snapshots: number[][][] = [];
    const result = await train(model, data, {
      epochs: 10,
      batchSize: 16,
      input: spec.input,
      validationData: halvesDataset(16, 9),
      // nothing improves by 100: epoch 1 stays the best
      earlyStopping: { monitor: 'valLoss', patience: 2, minDelta: 100 },
      onEpochEnd: () => {
        snapshots.push(weights(model));
      },
    });
    expect(result.history).toHaveLength(3);
    expect(result).toMatchObject({ stoppedEarly: true, bestEpoch: 1, finalWeightsEpoch: 1 });
    expect(weights(model)).toEqual(snapshots[0]);
    expect(weights(model)).not.toEqual(snapshots[2]);
    model.dispose();
  });

  it("ends after the epoch whose onEpochEnd returns 'stop', keeping that epoch's weights", async () => {
    const model = buildModel(spec, { seed: 1 });
    let afterSecond: number[][] = [];
    const result = await train(model, data, {
      epochs: 10,
      batchSize: 16,
      input: spec.input,
      onEpochEnd: (s) => {
        if (s.epoch < 2) return undefined;
        afterSecond = weights(model);
        return 'stop';
      },
    });
    expect(result.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(result).toMatchObject({ stoppedEarly: true, finalWeightsEpoch: 2, bestEpoch: null });
    expect(weights(model)).toEqual(afterSecond);
    model.dispose();
  });

  it('picks up layers unfrozen between epochs (gradual unfreezing)', async () => {
    const model = buildModel(spec, { seed: 1 });
    freeze(model, 'features');
    const conv = (): number[] =>
      Array.from(model.getLayer('features_conv1').getWeights()[0]!.dataSync());
    const start = conv();
    const afterEpoch: number[][] = [];
    await train(model, data, {
      epochs: 2,
      batchSize: 16,
      onEpochEnd: () => {
        afterEpoch.push(conv());
        unfreeze(model, 'features');
      },
    });
    expect(afterEpoch[0]).toEqual(start);
    expect(conv()).not.toEqual(start);
    model.dispose();
  });

  it('trains only unfrozen layers', async () => {
    const model = buildModel(spec, { seed: 1 });
    freeze(model, 'features');
    const conv = Array.from(model.getLayer('features_conv1').getWeights()[0]!.dataSync());
    const head = Array.from(model.getLayer('head_output').getWeights()[0]!.dataSync());
    await train(model, data, { epochs: 1, batchSize: 16, input: spec.input });
    expect(Array.from(model.getLayer('features_conv1').getWeights()[0]!.dataSync())).toEqual(conv);
    expect(Array.from(model.getLayer('head_output').getWeights()[0]!.dataSync())).not.toEqual(head);
    model.dispose();
  });

  it('keeps the moving statistics of frozen batch-normalisation layers (Keras 2 semantics via initRuntime)', async () => {
    const bnSpec = defaultCnnSpec({
      input: { shape: [8, 8, 1] },
      convFilters: [4],
      batchNorm: true,
      denseUnits: [8],
      classes: 2,
    });
    const movingMean = (m: tf.LayersModel): number[] =>
      Array.from(m.getLayer('features_bn1').getWeights()[2]!.dataSync());
    const frozen = buildModel(bnSpec, { seed: 1 });
    freeze(frozen, 'features');
    const before = movingMean(frozen);
    await train(frozen, data, { epochs: 1, batchSize: 16 });
    expect(movingMean(frozen)).toEqual(before);
    const open = buildModel(bnSpec, { seed: 1 });
    await train(open, data, { epochs: 1, batchSize: 16 });
    expect(movingMean(open)).not.toEqual(before);
    frozen.dispose();
    open.dispose();
  });

  it('checkpoints after every epoch; an abort mid-epoch stops before the next batch and leaves the checkpoint intact', async () => {
    const model = buildModel(spec, { seed: 1 });
    const dir = path.join(root, 'ckpt');
    const controller = new AbortController();
    let afterEpoch1: Record<string, string> = {};
    let batchesAfterAbort = 0;
    const error = await train(model, data, {
      epochs: 3,
      batchSize: 8,
      progressEvery: 1,
      input: spec.input,
      signal: controller.signal,
      checkpointDir: dir,
      checkpointMeta: { spec },
      onEpochEnd: async (stats: EpochStats) => {
        if (stats.epoch === 1) afterEpoch1 = await dirHashes(dir);
      },
      onProgress: (p) => {
        if (controller.signal.aborted) batchesAfterAbort += 1;
        if (p.epoch === 2 && p.batch === 3) controller.abort(new Error('user pressed ctrl-c'));
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isModelError(error) && error.code).toBe('TRAINING_ABORTED');
    expect((error as Error).message).toMatch(
      /^training aborted in epoch 2 before batch 4; 1 epoch\(s\) completed, last checkpoint at /,
    );
    expect((error as { data: { history: unknown[] } }).data.history).toHaveLength(1);
    expect(batchesAfterAbort).toBe(0);
    expect(await dirHashes(dir)).toEqual(afterEpoch1);
    const meta = await readModelMeta(dir);
    expect(meta.history).toHaveLength(1);
    expect(meta).toMatchObject({
      name: 'tiny',
      labels: ['left', 'right'],
      training: { optimizer: 'adam', epochs: 3 },
    });
    expect(meta.datasets).toEqual({ train: { fingerprint: fingerprint(data), count: 64 } });
    model.dispose();
  });

  it('stops promptly when aborted from a timer', async () => {
    const model = buildModel(spec, { seed: 1 });
    const signal = AbortSignal.timeout(20);
    // 1000 epochs would run far past the test timeout: rejecting at all shows it stopped between
    // batches of an early epoch (no wall-clock bound: speed is for bench/, not tests).
    await expect(
      train(model, data, { epochs: 1000, batchSize: 8, input: spec.input, signal }),
    ).rejects.toMatchObject({
      code: 'TRAINING_ABORTED',
      message: expect.stringMatching(/^training aborted in epoch \d+ before batch \d+;/),
    });
    model.dispose();
  });

  it('stops with TRAINING_DIVERGED when the loss stops being finite', async () => {
    const linear = {
      ...spec,
      layers: [
        { type: 'flatten' as const },
        { type: 'dense' as const, units: 2, activation: 'softmax' as const },
      ],
    };
    const model = buildModel(linear, { seed: 1 });
    // one NaN pixel (a corrupt Float32 dataset) poisons the loss of its batch
    const poisoned = {
      ...data,
      images: Float32Array.from(data.images, (v, i) => (i === 5 ? Number.NaN : v / 255)),
    };
    await expect(
      train(model, poisoned, { epochs: 2, batchSize: 8, input: spec.input }),
    ).rejects.toMatchObject({
      code: 'TRAINING_DIVERGED',
      message: expect.stringMatching(
        /^loss: expected a finite number, got NaN in epoch 1, batch [1-8] \(learning rate 0\.001\); lower the learning rate or check the data for NaN values$/,
      ),
    });
    model.dispose();
  });
});
