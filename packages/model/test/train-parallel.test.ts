import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { initRuntime, tf } from '@mlship/tf';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildModel, freeze, unfreeze } from '../src/build';
import { isModelError } from '../src/errors';
import { readModelMeta } from '../src/model-dir';
import { halvesDataset, tinySpec } from '../src/internal/testing';
import type { TrainProgress, TrainResult } from '../src/train/types';
import { train } from '../src/train/train';

const spec = tinySpec();
const data = halvesDataset(64, 1);

// Every worker thread this process starts, until it exits.
const live = new Set<Worker>();
let created = 0;
const track = (w: Worker): void => {
  created += 1;
  live.add(w);
  w.once('exit', () => live.delete(w));
};
beforeAll(async () => {
  await initRuntime();
  process.on('worker', track);
});
afterAll(() => {
  process.off('worker', track);
});

const weights = (model: tf.LayersModel): Float32Array[] =>
  model.getWeights().map((w) => w.dataSync() as Float32Array);

function maxDiff(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  expect(a.map((w) => w.length)).toEqual(b.map((w) => w.length));
  let max = 0;
  a.forEach((w, i) => w.forEach((v, j) => (max = Math.max(max, Math.abs(v - b[i]![j]!)))));
  return max;
}

const noWorkersLeft = (): Promise<void> =>
  vi.waitFor(() => expect(live.size).toBe(0), { timeout: 10_000, interval: 20 });

describe('train with workers', () => {
  it('takes the same SGD steps as the single-threaded loop, follows the schedule, and leaves no tensors or workers', async () => {
    const run = async (
      workers: number,
    ): Promise<{
      result: TrainResult;
      final: Float32Array[];
      epochWeights: Float32Array[][];
      progress: TrainProgress[];
      tensors: number[];
    }> => {
      const before = tf.memory().numTensors;
      const model = buildModel(spec, { seed: 3 });
      const epochWeights: Float32Array[][] = [weights(model)];
      const progress: TrainProgress[] = [];
      const tensors: number[] = [];
      const result = await train(model, data, {
        workers,
        optimizer: 'sgd',
        learningRate: 0.1,
        // epoch 3 has learning rate 0: its steps must leave the weights alone
        schedule: (epoch) => (epoch === 3 ? 0 : 0.1 / epoch),
        epochs: 3,
        batchSize: 8,
        progressEvery: 4,
        seed: 7,
        input: spec.input,
        validationData: halvesDataset(16, 9),
        onProgress: (p) => progress.push(p),
        onEpochEnd: () => {
          epochWeights.push(weights(model));
          tensors.push(tf.memory().numTensors);
        },
      });
      const final = weights(model);
      // train hands the model back uncompiled, as it came
      expect((model as unknown as { optimizer?: unknown }).optimizer).toBeUndefined();
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
      return { result, final, epochWeights, progress, tensors };
    };
    const single = await run(0);
    const parallel = await run(1);
    await noWorkersLeft();

    expect(maxDiff(parallel.final, single.final)).toBeLessThan(1e-5);
    const [w0, w1, w2, w3] = parallel.epochWeights;
    expect(maxDiff(w1!, w0!)).toBeGreaterThan(1e-3);
    expect(maxDiff(w2!, w1!)).toBeGreaterThan(1e-3);
    expect(maxDiff(w3!, w2!)).toBe(0); // learning rate 0 reached the trainer's optimizer
    expect(parallel.result.history.map((h) => h.learningRate)).toEqual([0.1, 0.05, 0]);
    parallel.result.history.forEach((h, i) => {
      const s = single.result.history[i]!;
      expect(h.loss).toBeCloseTo(s.loss, 5);
      expect(h.accuracy).toBeCloseTo(s.accuracy, 1);
      expect(h.valLoss).toBeCloseTo(s.valLoss!, 5);
      expect(h.valAccuracy).toBeCloseTo(s.valAccuracy!, 1);
      expect(h.imagesPerSec).toBeGreaterThan(0);
    });
    expect(parallel.progress.map((p) => [p.epoch, p.batch, p.images])).toEqual(
      single.progress.map((p) => [p.epoch, p.batch, p.images]),
    );
    expect(parallel.result.parallel).toEqual({
      workers: 1,
      starts: 1,
      startupMs: expect.any(Number),
    });
    expect(single.result.parallel).toBeNull();
    expect(parallel.result.params).toMatchObject({ workers: 1, optimizer: 'sgd' });
    expect(single.result.params).not.toHaveProperty('workers');
    // tensor count flat from epoch to epoch
    expect(new Set(parallel.tensors).size).toBe(1);
  });

  it('keeps frozen layers unchanged and restarts the workers when layers are unfrozen between epochs', async () => {
    const run = async (
      workers: number,
    ): Promise<{ result: TrainResult; convs: Float32Array[]; heads: Float32Array[] }> => {
      const model = buildModel(spec, { seed: 1 });
      freeze(model, 'features');
      const conv = (): Float32Array =>
        model.getLayer('features_conv1').getWeights()[0]!.dataSync() as Float32Array;
      const head = (): Float32Array =>
        model.getLayer('head_output').getWeights()[0]!.dataSync() as Float32Array;
      const convs = [conv()];
      const heads = [head()];
      const result = await train(model, data, {
        workers,
        optimizer: 'momentum',
        learningRate: 0.05,
        epochs: 3,
        batchSize: 16,
        input: spec.input,
        onEpochEnd: (s) => {
          convs.push(conv());
          heads.push(head());
          if (s.epoch === 1) unfreeze(model, 'features');
          if (s.epoch === 2) freeze(model, 'head');
        },
      });
      model.dispose();
      return { result, convs, heads };
    };
    const single = await run(0);
    const parallel = await run(1);
    await noWorkersLeft();
    const [c0, c1, c2, c3] = parallel.convs;
    const [h0, h1, h2, h3] = parallel.heads;
    expect(maxDiff([c1!], [c0!])).toBe(0); // epoch 1: features frozen
    expect(maxDiff([h1!], [h0!])).toBeGreaterThan(0);
    expect(maxDiff([c2!], [c1!])).toBeGreaterThan(0); // epoch 2: everything trains
    expect(maxDiff([h3!], [h2!])).toBe(0); // epoch 3: head frozen
    expect(maxDiff([c3!], [c2!])).toBeGreaterThan(0);
    expect(parallel.result.parallel).toMatchObject({ workers: 1, starts: 3 });
    expect(maxDiff(parallel.convs, single.convs)).toBeLessThan(1e-5);
    expect(maxDiff(parallel.heads, single.heads)).toBeLessThan(1e-5);
  });

  it('checkpoints every epoch and stops early restoring the best weights', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlship-train-parallel-'));
    try {
      const model = buildModel(spec, { seed: 1 });
      const snapshots: Float32Array[][] = [];
      const result = await train(model, data, {
        workers: 1,
        epochs: 10,
        batchSize: 16,
        input: spec.input,
        validationData: halvesDataset(16, 9),
        // nothing improves by 100: epoch 1 stays the best
        earlyStopping: { monitor: 'valLoss', patience: 1, minDelta: 100 },
        checkpointDir: dir,
        checkpointMeta: { spec },
        onEpochEnd: () => {
          snapshots.push(weights(model));
        },
      });
      expect(result).toMatchObject({ stoppedEarly: true, bestEpoch: 1, finalWeightsEpoch: 1 });
      expect(result.history).toHaveLength(2);
      expect(maxDiff(weights(model), snapshots[0]!)).toBe(0);
      expect(maxDiff(snapshots[1]!, snapshots[0]!)).toBeGreaterThan(0);
      const meta = await readModelMeta(dir);
      expect(meta.history).toHaveLength(2);
      expect(meta.training).toMatchObject({ workers: 1, epochs: 10 });
      const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as object;
      expect(json).not.toHaveProperty('trainingConfig');
      model.dispose();
      await noWorkersLeft();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('gives a compiled model back with its own optimizer and loss', async () => {
    const model = buildModel(spec, { seed: 1 });
    const own = tf.train.sgd(0.5);
    model.compile({ optimizer: own, loss: 'meanSquaredError' });
    await train(model, data, { workers: 1, epochs: 1, batchSize: 32, input: spec.input });
    expect(model.optimizer).toBe(own);
    expect(model.loss).toBe('meanSquaredError');
    expect(own.getConfig()).toMatchObject({ learningRate: 0.5 });
    model.dispose();
    own.dispose();
  });

  it('stops before the next batch when aborted and terminates its workers', async () => {
    const model = buildModel(spec, { seed: 1 });
    const controller = new AbortController();
    let batchesAfterAbort = 0;
    const error = await train(model, data, {
      workers: 1,
      epochs: 3,
      batchSize: 8,
      progressEvery: 1,
      input: spec.input,
      signal: controller.signal,
      onProgress: (p) => {
        if (controller.signal.aborted) batchesAfterAbort += 1;
        if (p.epoch === 1 && p.batch === 3) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(isModelError(error) && error.code).toBe('TRAINING_ABORTED');
    expect((error as Error).message).toMatch(
      /^training aborted in epoch 1 before batch 4; 0 epoch/,
    );
    expect(batchesAfterAbort).toBe(0);
    expect(live.size).toBe(0); // terminated before train rejected
    model.dispose();
  });

  it('gives up promptly when aborted while its workers are still starting', async () => {
    const model = buildModel(spec, { seed: 1 });
    const createdBefore = created;
    await expect(
      train(model, data, {
        workers: 1,
        epochs: 1,
        input: spec.input,
        signal: AbortSignal.timeout(5),
      }),
    ).rejects.toMatchObject({
      code: 'TRAINING_ABORTED',
      message: expect.stringMatching(/^training aborted in epoch 1 before batch 1;/),
    });
    // the worker that was starting is terminated once it is up
    await vi.waitFor(
      () => {
        expect(created).toBeGreaterThan(createdBefore);
        expect(live.size).toBe(0);
      },
      { timeout: 15_000, interval: 20 },
    );
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
      train(model, poisoned, { workers: 1, epochs: 2, batchSize: 8, input: spec.input }),
    ).rejects.toMatchObject({
      code: 'TRAINING_DIVERGED',
      message: expect.stringMatching(/^loss: expected a finite number, got NaN in epoch 1, /),
    });
    // The poisoned step was refused before it was applied: the weights are still finite.
    expect(model.getWeights().every((w) => w.dataSync().every(Number.isFinite))).toBe(true);
    await noWorkersLeft();
    model.dispose();
  });

  it('lets a program that aborts parallel training exit on its own', async () => {
    const script = fileURLToPath(new URL('./fixtures/abort-parallel.ts', import.meta.url));
    const root = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 30_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect({ code, out: out.trim() }).toEqual({ code: 0, out: 'TRAINING_ABORTED' });
  });
});
