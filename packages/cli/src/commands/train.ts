import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelSpec, OptimizerName } from '@mlship/model';
import { BACKEND_FIELD, get } from '../command';
import type { CommandDef } from '../command';
import { describeDataset, loadDataset } from '../data-source';
import type { DatasetSpec } from '../data-source';
import { CliError } from '../errors';
import { percent, renderTable } from '../output';
import type { Output, Progress } from '../output';
import { startRuntime } from '../runtime';

/** The training settings `train`, `transfer` and `pipeline run` share. */
export const TRAINING_FIELDS = [
  {
    key: 'epochs',
    flag: '--epochs <n>',
    help: 'training epochs',
    type: { kind: 'int' },
    default: 5,
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
    help: 'initial learning rate',
    type: { kind: 'number', min: 0, exclusiveMin: true },
    default: 0.002,
  },
  {
    key: 'optimizer',
    flag: '--optimizer <name>',
    help: 'adam, sgd, momentum, rmsprop, adamax or adagrad',
    type: { kind: 'enum', values: ['adam', 'sgd', 'momentum', 'rmsprop', 'adamax', 'adagrad'] },
    default: 'adam',
  },
  {
    key: 'schedule',
    flag: '--schedule <name>',
    help: 'learning rate over the epochs: cosine or constant',
    type: { kind: 'enum', values: ['cosine', 'constant'] },
    default: 'cosine',
  },
  {
    key: 'seed',
    flag: '--seed <n>',
    help: 'seed of weights and shuffling',
    type: { kind: 'int', min: 0 },
    default: 1,
  },
  {
    key: 'workers',
    flag: '--workers <n>',
    help: 'worker threads training beside the main thread, or auto (cores - 1)',
    type: { kind: 'workers' },
    default: 'auto',
  },
] as const satisfies CommandDef['fields'];

/** The training settings as read from a command's settings. */
export interface TrainingSettings {
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: OptimizerName;
  schedule: 'cosine' | 'constant';
  seed: number;
  workers: number | 'auto';
}

/** @internal */
export function trainingSettings(s: Record<string, unknown>): TrainingSettings {
  return {
    epochs: get(s, 'epochs'),
    batchSize: get(s, 'batchSize'),
    learningRate: get(s, 'learningRate'),
    optimizer: get(s, 'optimizer'),
    schedule: get(s, 'schedule'),
    seed: get(s, 'seed'),
    workers: get(s, 'workers'),
  };
}

/**
 * A progress bar over the epochs × batches of a training run, or one line per epoch when stderr
 * is not a terminal. Returns the callbacks for `train()` and the bar.
 *
 * @internal
 */
export function trainingProgress(
  out: Output,
  label: string,
  epochs: number,
): {
  onProgress: (p: {
    epoch: number;
    epochs: number;
    batch: number;
    batches: number;
    epochLoss: number;
    epochAccuracy: number;
  }) => void;
  onEpochEnd: (s: {
    epoch: number;
    loss: number;
    accuracy: number;
    seconds: number;
    imagesPerSec: number;
  }) => void;
  stop: () => void;
} {
  let bar: Progress | undefined;
  return {
    onProgress: (p) => {
      if (bar === undefined)
        bar = out.progress(label, p.epochs * p.batches, 'epoch {epoch} loss {loss} acc {acc}');
      bar.update((p.epoch - 1) * p.batches + p.batch, {
        epoch: `${p.epoch}/${p.epochs}`,
        loss: p.epochLoss.toFixed(4),
        acc: p.epochAccuracy.toFixed(4),
      });
    },
    onEpochEnd: (s) => {
      if (!out.interactive)
        out.note(
          `${label} epoch ${s.epoch}/${epochs}: loss ${s.loss.toFixed(4)} accuracy ${s.accuracy.toFixed(4)} ` +
            `${s.seconds.toFixed(1)} s ${s.imagesPerSec.toFixed(0)} images/s`,
        );
    },
    stop: () => bar?.stop(),
  };
}

async function readSpec(file: string, cwd: string): Promise<ModelSpec> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path.resolve(cwd, file), 'utf8')) as unknown;
  } catch (e) {
    throw new CliError(
      'USAGE',
      `--spec ${file}: cannot read a JSON model spec (${(e as Error).message})`,
      {
        cause: e,
        data: { path: file },
      },
    );
  }
  const { validateSpec } = await import('@mlship/model');
  return validateSpec(raw);
}

/** `mlship train`. */
export const trainCommand: CommandDef = {
  path: ['train'],
  summary: 'train a model from a spec (default: the thesis CNN) and save its model directory',
  details:
    'Datasets: mnist[:train|test][[start:end]], fashion-mnist, idx:<images>,<labels>, folder:<dir>, or in the\nconfig file an object { "source", "split", "start", "end", "shift": { "kind": "rotate", ... } }.',
  examples: [
    'mlship train --data "mnist:train[0:10000]" --epochs 5 --out models/cnn',
    'mlship train --config train.json --epochs 1 --json',
  ],
  fields: [
    {
      key: 'data',
      flag: '--data <dataset>',
      help: 'training images',
      type: { kind: 'dataset' },
      default: 'mnist:train[0:10000]',
    },
    {
      key: 'test',
      flag: '--test <dataset>',
      help: 'images to evaluate on',
      type: { kind: 'dataset' },
      default: 'mnist:test',
    },
    {
      key: 'name',
      flag: '--name <name>',
      help: 'model name (mlship.json name)',
      type: { kind: 'string' },
      default: 'cnn',
    },
    {
      key: 'spec',
      flag: '--spec <file>',
      help: 'a JSON @mlship/model ModelSpec (default: the thesis CNN)',
      type: { kind: 'string' },
    },
    ...TRAINING_FIELDS,
    {
      key: 'validationSplit',
      flag: '--validation-split <x>',
      help: 'fraction of the training images held out for validation',
      type: { kind: 'number', min: 0, max: 0.9 },
      default: 0,
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
    const started = performance.now();
    const { fingerprint } = await import('@mlship/data');
    const { buildModel, defaultCnnSpec, evaluate, saveModelDir, train } =
      await import('@mlship/model');
    const runtime = await startRuntime(out, get(s, 'backend'));
    const dataSpec = get<DatasetSpec>(s, 'data');
    const testSpec = get<DatasetSpec>(s, 'test');
    const [trainSet, testSet] = await Promise.all([
      loadDataset(dataSpec, io.cwd),
      loadDataset(testSpec, io.cwd),
    ]);
    out.note(
      `data: ${describeDataset(dataSpec)} (${trainSet.shape[0]} images), test: ${describeDataset(testSpec)} (${testSet.shape[0]})`,
    );
    const name = get<string>(s, 'name');
    const specFile = get<string | undefined>(s, 'spec');
    const spec =
      specFile === undefined
        ? defaultCnnSpec({ name })
        : { ...(await readSpec(specFile, io.cwd)), name };
    const t = trainingSettings(s);
    const model = buildModel(spec, { seed: t.seed });
    const progress = trainingProgress(out, 'train', t.epochs);
    let result;
    try {
      const validationSplit = get<number>(s, 'validationSplit');
      result = await train(model, trainSet, {
        ...t,
        schedule: { type: t.schedule },
        ...(validationSplit > 0 ? { validationSplit } : {}),
        progressEvery: 5,
        onProgress: progress.onProgress,
        onEpochEnd: progress.onEpochEnd,
        signal,
      });
    } finally {
      progress.stop();
    }
    const evaluation = await evaluate(model, testSet);
    const saved = await saveModelDir(
      model,
      path.resolve(io.cwd, get<string>(s, 'out')),
      {
        name,
        labels: trainSet.classNames,
        spec,
        training: { ...result.params },
        history: result.history,
        metrics: {
          accuracy: evaluation.accuracy,
          loss: evaluation.loss,
          macroF1: evaluation.macro.f1,
        },
        metricsDataset: 'test',
        datasets: { train: trainSet, test: testSet },
        strategy: 'scratch',
      },
      { overwrite: get<boolean>(s, 'overwrite') },
    );
    model.dispose();
    const seconds = (performance.now() - started) / 1000;
    out.result(
      {
        dir: saved.dir,
        name,
        backend: runtime.backend,
        metrics: saved.meta.metrics,
        datasets: { train: fingerprint(trainSet), test: fingerprint(testSet) },
        history: result.history,
        seconds,
      },
      () =>
        renderTable(
          ['epoch', 'loss', 'accuracy', 'seconds', 'images/s'],
          result.history.map((h) => [
            h.epoch,
            h.loss.toFixed(4),
            percent(h.accuracy),
            h.seconds.toFixed(1),
            Math.round(h.imagesPerSec),
          ]),
        ) +
        `\ntest accuracy ${percent(evaluation.accuracy)} on ${testSet.shape[0]} images (loss ${evaluation.loss.toFixed(4)})` +
        `\nsaved ${saved.dir} in ${seconds.toFixed(1)} s`,
    );
  },
};
