import path from 'node:path';
import type { Strategy } from '@mlship/transfer';
import { get } from '../command';
import type { CommandDef } from '../command';
import { loadDataset } from '../data-source';
import type { DatasetSpec } from '../data-source';
import { CliError } from '../errors';
import { percent, renderTable } from '../output';
import { startRuntime } from '../runtime';
import { trainingProgress } from './train';
import { BACKEND_FIELD } from '../command';

const STRATEGY_HELP =
  'scratch, fineTune, freeze, twoPhase, featureCache (or a JSON strategy object)';

/** Reads `--strategy`: a kind name, or a JSON object (the @mlship/transfer Strategy). */
function strategyOf(value: unknown): Strategy {
  if (typeof value === 'string') {
    if (value.trim().startsWith('{')) {
      try {
        return JSON.parse(value) as Strategy;
      } catch {
        throw new CliError('USAGE', `--strategy: not valid JSON: ${value}`, {
          data: { path: '--strategy' },
        });
      }
    }
    return { kind: value } as Strategy;
  }
  return value as Strategy;
}

/** `mlship transfer`. */
export const transferCommand: CommandDef = {
  path: ['transfer'],
  summary: 'adapt a model to new data with one transfer strategy and save the new model directory',
  examples: [
    'mlship transfer --from models/cnn --strategy fineTune --data "mnist:train[10000:18000]" --test "mnist:train[18000:20000]" --out models/cnn-v2',
    'mlship transfer --config transfer.json --strategy \'{"kind":"freeze","layers":{"type":"conv2d"}}\'',
  ],
  fields: [
    {
      key: 'from',
      flag: '--from <dir>',
      help: 'the base model directory',
      type: { kind: 'string' },
      required: true,
    },
    {
      key: 'strategy',
      flag: '--strategy <strategy>',
      help: STRATEGY_HELP,
      type: { kind: 'json', describe: 'a strategy kind or object' },
      default: 'fineTune',
    },
    {
      key: 'data',
      flag: '--data <dataset>',
      help: 'new training images',
      type: { kind: 'dataset' },
      required: true,
    },
    {
      key: 'test',
      flag: '--test <dataset>',
      help: 'held-out images the result is measured on',
      type: { kind: 'dataset' },
    },
    {
      key: 'epochs',
      flag: '--epochs <n>',
      help: 'training epochs',
      type: { kind: 'int' },
      default: 2,
    },
    {
      key: 'batchSize',
      flag: '--batch-size <n>',
      help: 'images per step',
      type: { kind: 'int' },
      default: 32,
    },
    {
      key: 'learningRate',
      flag: '--lr <x>',
      help: 'learning rate',
      type: { kind: 'number', min: 0, exclusiveMin: true },
      default: 0.001,
    },
    { key: 'seed', flag: '--seed <n>', help: 'seed', type: { kind: 'int', min: 0 }, default: 1 },
    {
      key: 'workers',
      flag: '--workers <n>',
      help: 'training worker threads, or auto',
      type: { kind: 'workers' },
      default: 0,
    },
    {
      key: 'parent',
      flag: '--parent <ref>',
      help: 'registry ref recorded as the parent, e.g. cnn@v1',
      type: { kind: 'string' },
    },
    BACKEND_FIELD,
    {
      key: 'out',
      flag: '--out <dir>',
      help: 'model directory to write',
      type: { kind: 'string' },
      required: true,
    },
    {
      key: 'overwrite',
      flag: '--overwrite',
      help: 'replace --out if it exists',
      type: { kind: 'boolean' },
      default: false,
    },
  ],
  async run({ out, io, signal }, _args, s) {
    await startRuntime(out, get(s, 'backend'));
    const { transfer, validateStrategy } = await import('@mlship/transfer');
    const strategy = validateStrategy(strategyOf(get(s, 'strategy')));
    const train = await loadDataset(get<DatasetSpec>(s, 'data'), io.cwd);
    const testSpec = get<DatasetSpec | undefined>(s, 'test');
    const test = testSpec === undefined ? undefined : await loadDataset(testSpec, io.cwd);
    const epochs = get<number>(s, 'epochs');
    const progress = trainingProgress(out, strategy.kind, epochs);
    const parent = get<string | undefined>(s, 'parent');
    let result;
    try {
      result = await transfer(
        path.resolve(io.cwd, get<string>(s, 'from')),
        strategy,
        { train, ...(test === undefined ? {} : { test }) },
        {
          budget: { epochs },
          batchSize: get(s, 'batchSize'),
          learningRate: get(s, 'learningRate'),
          seed: get(s, 'seed'),
          workers: get(s, 'workers'),
          signal,
          progressEvery: 5,
          onProgress: progress.onProgress,
          onEpochEnd: progress.onEpochEnd,
          outDir: path.resolve(io.cwd, get<string>(s, 'out')),
          overwrite: get(s, 'overwrite'),
          ...(parent === undefined ? {} : { parent }),
        },
      );
    } finally {
      progress.stop();
    }
    result.model.dispose();
    const dir = path.resolve(io.cwd, get<string>(s, 'out'));
    out.result(
      {
        dir,
        strategy: result.strategy,
        test: result.test,
        parameters: result.parameters,
        history: result.history,
        seconds: result.seconds,
      },
      () =>
        renderTable(
          ['epoch', 'loss', 'accuracy', 'seconds'],
          result.history.map((h) => [
            h.epoch,
            h.loss.toFixed(4),
            percent(h.accuracy),
            h.seconds.toFixed(1),
          ]),
        ) +
        `\n${result.label}: ${result.parameters.trainable} trainable, ${result.parameters.frozen} frozen parameters` +
        (result.test === null ? '' : `; test accuracy ${percent(result.test.accuracy)}`) +
        `\nsaved ${dir}`,
    );
  },
};
