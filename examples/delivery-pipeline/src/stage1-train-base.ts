import { fingerprint, loadMnist, slice, take } from '@mlship/data';
import type { ImageDataset } from '@mlship/data';
import { buildModel, defaultCnnSpec, evaluate, saveModelDir, train } from '@mlship/model';
import { openRegistry } from '@mlship/registry';
import type { Registry, ResolvedVersion } from '@mlship/registry';
import path from 'node:path';
import { pct } from './run';
import type { Run } from './run';

export interface BaseResult {
  registry: Registry;
  v1: ResolvedVersion;
  dir: string;
  accuracy: number;
  train: ImageDataset;
  test: ImageDataset;
  /** The MNIST training split, reused for the new data of stage 3. */
  mnistTrain: ImageDataset;
}

/**
 * Stage 1: train the base CNN on MNIST training images 0–9,999, evaluate it on the MNIST test
 * images, save its model directory, register it as `cnn@v1` in a local git registry and assign
 * the stage `production`.
 */
export async function trainBase(run: Run): Promise<BaseResult> {
  const { cfg, log } = run;
  const mnistTrain = await loadMnist({ split: 'train' });
  const trainSet = slice(mnistTrain, cfg.base.start, cfg.base.end);
  const testSet = take(await loadMnist({ split: 'test' }), cfg.testCount);
  log(
    `  data: MNIST training images ${cfg.base.start}–${cfg.base.end - 1} (${fingerprint(trainSet).slice(0, 19)}…)`,
  );

  const spec = defaultCnnSpec({ name: 'cnn' });
  const model = buildModel(spec, { seed: cfg.seed });
  const result = await train(model, trainSet, {
    epochs: cfg.base.epochs,
    batchSize: 32,
    learningRate: 0.002,
    schedule: { type: 'cosine' },
    seed: cfg.seed,
    workers: cfg.workers,
    onEpochEnd: (s) =>
      log(
        `  epoch ${s.epoch}/${cfg.base.epochs}: loss ${s.loss.toFixed(4)}, accuracy ${pct(s.accuracy)}, ${s.imagesPerSec.toFixed(0)} images/s`,
      ),
  });
  const evaluation = await evaluate(model, testSet);
  log(`  test accuracy: ${pct(evaluation.accuracy)} on ${testSet.shape[0]} MNIST test images`);

  const dir = path.join(run.dirs.models, 'cnn-v1');
  await saveModelDir(model, dir, {
    name: 'cnn',
    labels: trainSet.classNames,
    spec,
    training: { ...result.params },
    history: result.history,
    metrics: { accuracy: evaluation.accuracy, loss: evaluation.loss },
    metricsDataset: 'test',
    datasets: { train: trainSet, test: testSet },
    strategy: 'scratch',
  });
  model.dispose();

  const registry = await openRegistry({ dir: run.dirs.registry, create: true });
  const v1 = await registry.register('cnn', dir, { message: 'base CNN on MNIST 0-9,999' });
  await registry.assign(v1.tag, 'production', { message: 'first production model' });
  log(`  registered ${v1.tag} (commit ${v1.commit.slice(0, 10)}), stage production -> v1`);
  return {
    registry,
    v1,
    dir,
    accuracy: evaluation.accuracy,
    train: trainSet,
    test: testSet,
    mnistTrain,
  };
}
