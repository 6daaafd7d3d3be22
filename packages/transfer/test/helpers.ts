import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImageDataset, ShiftSpec } from '@mlship/data';
import { applyShift, filterClasses, loadMnist, slice } from '@mlship/data';
import type { ModelSpec } from '@mlship/model';
import { buildModel, defaultCnnSpec, evaluate, saveModelDir, train } from '@mlship/model';
import type { tf } from '@mlship/tf';
import { initRuntime } from '@mlship/tf';

/** The shift of the tests' target data: rotation plus noise, as the default preset. */
export const SHIFT: ShiftSpec = {
  kind: 'compose',
  shifts: [
    { kind: 'rotate', maxDegrees: 30 },
    { kind: 'noise', sigma: 0.2 },
  ],
};

/** A tiny CNN of model A's shape (2 conv blocks, one hidden dense layer): 3,722 parameters. */
export function tinySpec(options: { batchNorm?: boolean } = {}): ModelSpec {
  return defaultCnnSpec({ convFilters: [4, 8], denseUnits: [16], ...options });
}

export interface Fixture {
  /** Temporary directory, removed by `cleanup`. */
  root: string;
  /** A trained base model directory (600 real MNIST training images, 2 epochs). */
  baseDir: string;
  /** Shifted MNIST target: 300 train, 100 validation, 100 test images. */
  data: { train: ImageDataset; validation: ImageDataset; test: ImageDataset };
  /** The base's accuracy on 200 unshifted MNIST test images. */
  sourceAccuracy: number;
  cleanup: () => Promise<void>;
}

/**
 * Trains a tiny base model on real MNIST images 0..599 and cuts a shifted target from images
 * 600..1099 (train 300, validation 100, test 100): the tests' small real slices.
 */
export async function fixture(options: { batchNorm?: boolean } = {}): Promise<Fixture> {
  const runtime = await initRuntime();
  if (runtime.backend === 'cpu') throw new Error('transfer tests never train on the cpu backend');
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'mlship-transfer-test-'));
  const all = await loadMnist({ split: 'train' });
  const source = slice(all, 0, 600);
  const spec = tinySpec(options);
  const model = buildModel(spec, { seed: 1 });
  await train(model, source, { epochs: 2, batchSize: 32, seed: 1, learningRate: 0.003 });
  const sourceTest = slice(await loadMnist({ split: 'test' }), 0, 200);
  const sourceAccuracy = (await evaluate(model, sourceTest)).accuracy;
  const baseDir = path.join(root, 'base');
  await saveModelDir(model, baseDir, {
    labels: source.classNames,
    spec,
    metrics: { accuracy: sourceAccuracy },
    metricsDataset: 'test',
    datasets: { train: source, test: sourceTest },
  });
  model.dispose();
  return {
    root,
    baseDir,
    data: {
      train: applyShift(slice(all, 600, 900), SHIFT, 1),
      validation: applyShift(slice(all, 900, 1000), SHIFT, 2),
      test: applyShift(slice(all, 1000, 1100), SHIFT, 3),
    },
    sourceAccuracy,
    cleanup: () => fs.rm(root, { recursive: true, force: true }),
  };
}

/** MNIST digits 0 and 1 only, relabelled (2 classes): a target with a new class count. */
export async function twoClassTarget(): Promise<ImageDataset> {
  const all = await loadMnist({ split: 'train' });
  return filterClasses(slice(all, 1100, 1700), ['0', '1']);
}

/** A layer's weights as plain arrays (for bit-identity checks). */
export function layerWeights(model: tf.LayersModel, name: string): Float32Array[] {
  return model
    .getLayer(name)
    .getWeights()
    .map((w) => Float32Array.from(w.dataSync() as Float32Array));
}

/** The largest absolute difference between two lists of weight arrays. */
export function maxAbsDiff(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let max = 0;
  a.forEach((x, i) => {
    const y = b[i]!;
    if (x.length !== y.length) throw new Error(`weight ${i}: ${x.length} vs ${y.length} values`);
    for (let j = 0; j < x.length; j++) max = Math.max(max, Math.abs(x[j]! - y[j]!));
  });
  return max;
}
