import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImageDataset } from '@mlship/data';
import { BACKEND_FIELD, get } from '../command';
import type { CommandDef } from '../command';
import { describeDataset, loadDataset } from '../data-source';
import type { DatasetSpec } from '../data-source';
import { CliError } from '../errors';
import { percent, renderTable } from '../output';
import { startRuntime } from '../runtime';
import { build } from './image';
import { trainingProgress } from './train';

/** `mlship pipeline run`. */
export const pipelineCommand: CommandDef = {
  path: ['pipeline', 'run'],
  summary: 'the delivery pipeline for CI: drift, transfer, quality gate, register + promote, image',
  details: [
    'Steps: (1) when the stage has no version yet, train a base model and register it there; (2) check the',
    'stage out and measure it on the new data (accuracy on the holdout, PSI of prediction confidence against',
    'the reference images); (3) adapt it with the strategy; (4) quality gate: the candidate must beat it on the',
    'holdout by gate.margin, else exit code 3 and nothing is registered; (5) register the candidate with its',
    'lineage and move the stage; (6) with image.out, write the server image as an OCI layout.',
  ].join('\n'),
  examples: [
    'mlship pipeline run --registry . --data "mnist:train[10000:18000]" --holdout "mnist:train[18000:20000]"',
    'mlship pipeline run --config mlship.pipeline.json --json',
  ],
  fields: [
    {
      key: 'registry',
      flag: '--registry <dir>',
      help: 'the git registry (created when missing)',
      type: { kind: 'string' },
      default: '.',
    },
    {
      key: 'name',
      flag: '--name <name>',
      help: 'model name',
      type: { kind: 'string' },
      default: 'cnn',
    },
    {
      key: 'stage',
      flag: '--stage <stage>',
      help: 'the stage the candidate must beat and then takes',
      type: { kind: 'string' },
      default: 'production',
    },
    {
      key: 'base.data',
      help: 'base training images (only when the stage is empty)',
      type: { kind: 'dataset' },
      default: 'mnist:train[0:10000]',
    },
    { key: 'base.epochs', help: 'base training epochs', type: { kind: 'int' }, default: 3 },
    {
      key: 'data',
      flag: '--data <dataset>',
      help: 'new training images',
      type: { kind: 'dataset' },
      default: 'mnist:train[10000:18000]',
    },
    {
      key: 'holdout',
      flag: '--holdout <dataset>',
      help: 'new held-out images (the gate measures on them)',
      type: { kind: 'dataset' },
      default: 'mnist:train[18000:20000]',
    },
    {
      key: 'reference',
      flag: '--reference <dataset>',
      help: 'images the stage was validated on (drift reference)',
      type: { kind: 'dataset' },
      default: 'mnist:test[0:2000]',
    },
    {
      key: 'strategy',
      flag: '--strategy <kind>',
      help: 'transfer strategy kind or JSON object',
      type: { kind: 'json', describe: 'a strategy kind or object' },
      default: 'fineTune',
    },
    {
      key: 'epochs',
      flag: '--epochs <n>',
      help: 'transfer epochs',
      type: { kind: 'int' },
      default: 2,
    },
    {
      key: 'learningRate',
      flag: '--lr <x>',
      help: 'transfer learning rate',
      type: { kind: 'number', min: 0, exclusiveMin: true },
      default: 0.001,
    },
    { key: 'seed', flag: '--seed <n>', help: 'seed', type: { kind: 'int', min: 0 }, default: 1 },
    {
      key: 'workers',
      flag: '--workers <n>',
      help: 'training worker threads, or auto',
      type: { kind: 'workers' },
      default: 'auto',
    },
    {
      key: 'gate.margin',
      flag: '--margin <x>',
      help: 'accuracy the candidate must gain on the holdout',
      type: { kind: 'number', min: -1, max: 1 },
      default: 0.01,
    },
    {
      key: 'promote',
      flag: '--promote <bool>',
      help: 'move the stage to the candidate when the gate passes',
      type: { kind: 'boolean' },
      default: true,
    },
    {
      key: 'image.out',
      flag: '--image-out <dir>',
      help: 'write the server image of the new stage version as an OCI layout here',
      type: { kind: 'string' },
    },
    {
      key: 'image.base',
      flag: '--image-base <image>',
      help: "base image (host = this machine's node, no network)",
      type: { kind: 'string' },
      default: 'host',
    },
    {
      key: 'work',
      flag: '--work <dir>',
      help: 'where model directories are written (default: a new temp dir)',
      type: { kind: 'string' },
    },
    BACKEND_FIELD,
  ],
  async run(ctx, _args, s) {
    const { out, io, signal } = ctx;
    const started = performance.now();
    await startRuntime(out, get(s, 'backend'));
    const { openRegistry } = await import('@mlship/registry');
    const { populationStabilityIndex } = await import('@mlship/data');
    const model = await import('@mlship/model');
    const { transfer, validateStrategy } = await import('@mlship/transfer');
    const name = get<string>(s, 'name');
    const stage = get<string>(s, 'stage');
    const seed = get<number>(s, 'seed');
    const workers = get<number | 'auto'>(s, 'workers');
    const work =
      get<string | undefined>(s, 'work') ??
      (await mkdtemp(path.join(os.tmpdir(), 'mlship-pipeline-')));
    const registryDir = path.resolve(io.cwd, get<string>(s, 'registry'));
    const reg = await openRegistry({ dir: registryDir, create: true });
    const strategyRaw = get<unknown>(s, 'strategy');
    const strategy = validateStrategy(
      typeof strategyRaw === 'string' ? { kind: strategyRaw } : strategyRaw,
    );

    // 1. a base version when the stage is empty
    let trainedBase: string | null = null;
    // A model the registry does not know yet has no stages.
    const stages: Record<string, unknown> = await reg.stages(name).catch(() => ({}));
    if (stages[stage] === undefined) {
      const spec = get<DatasetSpec>(s, 'base.data');
      const ds = await loadDataset(spec, io.cwd);
      const epochs = get<number>(s, 'base.epochs');
      out.note(`${name}#${stage} is empty: training a base model on ${describeDataset(spec)}`);
      const net = model.buildModel(model.defaultCnnSpec({ name }), { seed });
      const progress = trainingProgress(out, 'base', epochs);
      let r;
      try {
        r = await model.train(net, ds, {
          epochs,
          seed,
          workers,
          schedule: { type: 'cosine' },
          signal,
          progressEvery: 5,
          onProgress: progress.onProgress,
          onEpochEnd: progress.onEpochEnd,
        });
      } finally {
        progress.stop();
      }
      const dir = path.join(work, `${name}-base`);
      await model.saveModelDir(
        net,
        dir,
        {
          name,
          labels: ds.classNames,
          spec: model.defaultCnnSpec({ name }),
          training: { ...r.params },
          history: r.history,
          datasets: { train: ds },
          strategy: 'scratch',
        },
        { overwrite: true },
      );
      net.dispose();
      const v = await reg.register(name, dir, {
        message: 'base model (pipeline run)',
        stages: [stage],
      });
      trainedBase = v.tag;
    }

    // 2. drift of the stage's version on the new data
    const production = await reg.checkout(`${name}#${stage}`, path.join(work, `${name}-${stage}`), {
      overwrite: true,
    });
    const [train, holdout, reference] = (await Promise.all(
      (['data', 'holdout', 'reference'] as const).map((k) =>
        loadDataset(get<DatasetSpec>(s, k), io.cwd),
      ),
    )) as [ImageDataset, ImageDataset, ImageDataset];
    const { model: prod } = await model.loadModelDir(production.dir);
    const productionAccuracy = (await model.evaluate(prod, holdout)).accuracy;
    const confidences = async (ds: ImageDataset): Promise<number[]> =>
      (await model.predict(prod, ds)).map((p) => p.probability);
    const psi = populationStabilityIndex(
      await confidences(reference),
      await confidences(holdout),
    ).psi;
    prod.dispose();
    out.note(
      `${production.tag} on the new holdout: ${percent(productionAccuracy)}; prediction-confidence PSI ${psi.toFixed(3)}`,
    );

    // 3. adapt
    const candidateDir = path.join(work, `${name}-candidate`);
    const epochs = get<number>(s, 'epochs');
    const progress = trainingProgress(out, strategy.kind, epochs);
    let result;
    try {
      result = await transfer(
        production.dir,
        strategy,
        { train, test: holdout },
        {
          budget: { epochs },
          learningRate: get(s, 'learningRate'),
          seed,
          workers,
          signal,
          progressEvery: 5,
          onProgress: progress.onProgress,
          onEpochEnd: progress.onEpochEnd,
          outDir: candidateDir,
          overwrite: true,
          parent: production.tag,
        },
      );
    } finally {
      progress.stop();
    }
    result.model.dispose();
    const candidateAccuracy = result.test!.accuracy;

    // 4. gate
    const margin = get<number>(s, 'gate.margin');
    const summary = {
      registry: registryDir,
      trainedBase,
      production: { tag: production.tag, accuracy: productionAccuracy },
      drift: { confidencePsi: psi },
      candidate: { dir: candidateDir, strategy: result.strategy, accuracy: candidateAccuracy },
      gate: { margin, passed: candidateAccuracy >= productionAccuracy + margin },
    };
    if (!summary.gate.passed)
      throw new CliError(
        'GATE_FAILED',
        `quality gate: the candidate's ${percent(candidateAccuracy)} on the holdout does not beat ${production.tag}'s ${percent(productionAccuracy)} by ${margin}; nothing was registered`,
        { data: summary },
      );

    // 5. register + promote
    const v = await reg.register(name, candidateDir, {
      parent: production.tag,
      strategy: result.label,
      message: `${result.label} on ${describeDataset(get<DatasetSpec>(s, 'data'))}`,
      ...(get<boolean>(s, 'promote') ? { stages: [stage] } : {}),
    });

    // 6. image
    let image: { digest: string; layout: string } | null = null;
    const imageOut = get<string | undefined>(s, 'image.out');
    if (imageOut !== undefined) {
      const { writeOciLayout } = await import('@mlship/container');
      const b = await build(ctx, {
        model: candidateDir,
        base: get<string>(s, 'image.base'),
        port: 8080,
      });
      const w = await writeOciLayout(b.result.image, path.resolve(io.cwd, imageOut), {
        tag: `v${v.version}`,
      });
      image = { digest: w.digest, layout: w.dir };
    }
    const seconds = (performance.now() - started) / 1000;
    out.result(
      { ...summary, registered: v, promoted: get<boolean>(s, 'promote'), image, seconds },
      () =>
        renderTable(
          ['step', 'result'],
          [
            ['base', trainedBase ?? `${production.tag} (from ${name}#${stage})`],
            [
              'drift',
              `${production.tag}: ${percent(productionAccuracy)} on the holdout; confidence PSI ${psi.toFixed(3)}`,
            ],
            ['candidate', `${result.label}: ${percent(candidateAccuracy)} on the holdout`],
            ['gate', `passed (margin ${margin})`],
            [
              'registered',
              `${v.tag}${get<boolean>(s, 'promote') ? `, ${name}#${stage} -> v${v.version}` : ''}`,
            ],
            ['image', image === null ? '-' : `${image.digest} in ${image.layout}`],
          ],
        ) + `\ndone in ${seconds.toFixed(1)} s`,
    );
  },
};
