import type { Worker } from 'node:worker_threads';
import { initRuntime, tf } from '@mlship/tf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../build';
import { halvesDataset, tinySpec } from '../internal/testing';
import { resolveWorkers } from './parallel-stepper';
import { train } from './train';
import type { TrainOptions } from './types';

// What `workers` refuses before any worker starts (the parallel runs themselves are in test/).
const spec = tinySpec();
const data = halvesDataset(64, 1);
let created = 0;
const track = (_w: Worker): void => {
  created += 1;
};
beforeAll(async () => {
  await initRuntime();
  process.on('worker', track);
});
afterAll(() => {
  process.off('worker', track);
});

describe('train with workers', () => {
  it.each<[TrainOptions['workers'], RegExp]>([
    [-1, /^workers: expected 'auto' or an integer in \[0, 64\], got -1$/],
    [1.5, /^workers: expected 'auto' or an integer in \[0, 64\], got 1\.5$/],
    ['all' as never, /^workers: expected 'auto' or an integer in \[0, 64\], got "all"$/],
  ])('rejects workers %o with INVALID_OPTION', async (workers, message) => {
    const model = buildModel(spec);
    await expect(train(model, data, { workers })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(message),
    });
    model.dispose();
  });

  it('rejects a model with several outputs, naming it', async () => {
    const input = tf.input({ shape: [8, 8, 1] });
    const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
    const a = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(flat) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(flat) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [a, b], name: 'two_heads' });
    await expect(train(model, data, { workers: 1, input: spec.input })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(
        /^workers: expected 0 for model two_heads with 2 outputs \(the parallel trainer supports single-output models only\), got 1$/,
      ),
    });
    expect(created).toBe(0); // refused before any worker started
    model.dispose();
  });

  it.each([
    ['auto', 1, 0],
    ['auto', 2, 1],
    ['auto', 8, 7],
    [undefined, 8, 0],
    [3, 2, 3],
  ] as const)('resolves workers %o on %i cores to %i', (workers, cores, expected) => {
    expect(resolveWorkers(workers, cores)).toBe(expected);
  });
});
