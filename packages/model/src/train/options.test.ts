import { initRuntime } from '@mlship/tf';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../build';
import { halvesDataset, tinySpec } from '../internal/testing';
import { train } from './train';
import type { TrainOptions } from './types';

// Options and data are checked before any tensor work: these calls fail fast, before a step.
const spec = tinySpec();
const data = halvesDataset(64, 1);

beforeAll(async () => {
  await initRuntime();
});

describe('train options', () => {
  it.each<[TrainOptions, RegExp]>([
    [{ optimizer: 'lbfgs' as never }, /^optimizer: expected 'adam', 'sgd', .*, got "lbfgs"$/],
    [{ learningRate: 0 }, /^learningRate: expected a positive number, got 0$/],
    [{ epochs: 0 }, /^epochs: expected a positive integer, got 0$/],
    [{ batchSize: 2.5 }, /^batchSize: expected a positive integer, got 2\.5$/],
    [{ validationSplit: 1 }, /^validationSplit: expected a number in \[0, 1\), got 1$/],
    [
      { validationSplit: 0.001 },
      /^validationSplit: expected a fraction leaving at least one image on each side of 64, got 0\.001$/,
    ],
    [
      { earlyStopping: { monitor: 'valLoss' } },
      /^earlyStopping\.monitor: expected 'loss' or 'accuracy' \(there is no validation data\), got "valLoss"$/,
    ],
    [
      { earlyStopping: { patience: -1 } },
      /^earlyStopping\.patience: expected an integer >= 0, got -1$/,
    ],
    [
      { schedule: { type: 'step', every: 0, factor: 1 } },
      /^schedule\.every: expected a positive integer, got 0$/,
    ],
    [{ seed: 0.5 }, /^seed: expected an integer, got 0\.5$/],
  ])('rejects %o with INVALID_OPTION', async (options, message) => {
    const model = buildModel(spec);
    await expect(train(model, data, options)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(message),
    });
    model.dispose();
  });

  it('rejects a dataset whose class names do not match the outputs', async () => {
    const model = buildModel(spec);
    await expect(
      train(model, { ...data, classNames: ['a', 'b', 'c'] }, { epochs: 1 }),
    ).rejects.toMatchObject({
      code: 'INVALID_DATA',
      message: "data.classNames: expected 2 class names (the model's outputs), got 3",
    });
    model.dispose();
  });

  it('rejects labels the model cannot output', async () => {
    const model = buildModel(spec);
    await expect(
      train(model, { ...data, labels: data.labels.map(() => 2) }, { epochs: 1 }),
    ).rejects.toThrow(/^data\.labels\[0\]: expected a class index in \[0, 2\), got 2$/);
    model.dispose();
  });
});
