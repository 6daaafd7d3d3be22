import path from 'node:path';
import type { ImageDataset } from '@mlship/data';
import { take } from '@mlship/data';
import type { DefaultCnnOptions, EpochStats, ModelSpec } from '@mlship/model';
import {
  buildModel,
  defaultCnnSpec,
  evaluate,
  readModelMeta,
  saveModelDir,
  train,
  validateSpec,
} from '@mlship/model';
import { initRuntime } from '@mlship/tf';
import { sha256Hex } from '@mlship/core';
import { TransferError, asTransferError, checkKeys, optionError } from '../errors';
import type { ExperimentConfig } from '../experiment/config';
import { validateExperimentConfig } from '../experiment/config';
import { runExperiment } from '../experiment/runner';
import type { ExperimentEvent, ExperimentResult } from '../experiment/types';
import type { WrittenReport } from '../report/write';
import { writeReport } from '../report/write';
import type { DatasetSource } from './sources';
import { loadDatasetSource, validateDatasetSource } from './sources';
import type { SweepResult, WrittenSweepReport } from './sweep';
import { summarizeSweep, writeSweepReport } from './sweep';

/** How a preset trains its base model (when it does not name an existing model directory). */
export interface BaseTraining {
  /** What the base trains on. */
  data: DatasetSource;
  /** Its own test set: the base's accuracy there is "the old level" the findings compare with. */
  test?: DatasetSource;
  /** @mlship/model `defaultCnnSpec` options (default: model A, classes from the data). */
  model?: DefaultCnnOptions;
  /** A full @mlship/model spec instead of `model`. */
  spec?: ModelSpec;
  /** Epochs (default 5). */
  epochs?: number;
  /** Images per step (default 32). */
  batchSize?: number;
  /** Adam learning rate (default 0.001). */
  learningRate?: number;
  /** Seed of weights and batch order (default 1). */
  seed?: number;
  /** Worker threads of @mlship/model's `train` (default 0). */
  workers?: number | 'auto';
}

/**
 * An experiment as one JSON file a user can copy and edit: the base model (an existing model
 * directory, or how to train one), the target data (any datasets @mlship/data loads), the
 * strategies, budget and seeds, and optionally a sweep over the target's training-set size.
 */
export interface ExperimentPreset {
  /** Name (results, report titles): letters, digits, `.`, `_`, `-`. */
  name: string;
  /** What the preset shows, for the report. */
  description?: string;
  /** The base: `{ dir }` (an mlship model directory) or `{ train }` (trained first, then kept). */
  base: { dir: string; sourceAccuracy?: number } | { train: BaseTraining };
  /** The target data. */
  target: { train: DatasetSource; validation: DatasetSource; test: DatasetSource };
  /** Strategies, seeds, budget, training settings, thresholds. */
  experiment: Omit<ExperimentConfig, 'name'>;
  /** Run the experiment once per target training-set size (the first `n` images of `target.train`). */
  sweep?: { trainSize: number[] };
}

/**
 * Checks a preset (every field, every strategy, every dataset source).
 *
 * @param value - the preset (e.g. parsed from a JSON file)
 * @returns the value typed as a preset
 * @throws {@link TransferError} `INVALID_OPTION` or `INVALID_STRATEGY` naming the field
 * @example
 * ```ts
 * const preset = validatePreset(JSON.parse(await readFile('presets/default.json', 'utf8')));
 * ```
 */
export function validatePreset(value: unknown): ExperimentPreset {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw optionError('preset', 'a preset object', value);
  }
  checkKeys(value, ['name', 'description', 'base', 'target', 'experiment', 'sweep'], 'preset');
  const v = value as Record<string, unknown>;
  if (v['description'] !== undefined && typeof v['description'] !== 'string') {
    throw optionError('preset.description', 'a string', v['description']);
  }
  const base = v['base'] as Record<string, unknown> | undefined;
  if (typeof base !== 'object' || base === null) {
    throw optionError('preset.base', '{ dir } or { train }', base);
  }
  if ('dir' in base) {
    checkKeys(base, ['dir', 'sourceAccuracy'], 'preset.base');
    if (typeof base['dir'] !== 'string')
      throw optionError('preset.base.dir', 'a path', base['dir']);
    const acc = base['sourceAccuracy'];
    if (acc !== undefined && !(typeof acc === 'number' && acc >= 0 && acc <= 1)) {
      throw optionError('preset.base.sourceAccuracy', 'an accuracy in [0, 1]', acc);
    }
  } else {
    checkKeys(base, ['train'], 'preset.base');
    const t = base['train'] as Record<string, unknown> | undefined;
    if (typeof t !== 'object' || t === null) {
      throw optionError('preset.base.train', 'a base-training object', t);
    }
    checkKeys(
      t,
      ['data', 'test', 'model', 'spec', 'epochs', 'batchSize', 'learningRate', 'seed', 'workers'],
      'preset.base.train',
    );
    validateDatasetSource(t['data'], 'preset.base.train.data');
    if (t['test'] !== undefined) validateDatasetSource(t['test'], 'preset.base.train.test');
    if (t['spec'] !== undefined) {
      try {
        validateSpec(t['spec']);
      } catch (e) {
        throw asTransferError(e, 'INVALID_OPTION', 'preset.base.train.spec');
      }
    }
    for (const k of ['epochs', 'batchSize']) {
      if (t[k] !== undefined && !(Number.isInteger(t[k]) && (t[k] as number) > 0)) {
        throw optionError(`preset.base.train.${k}`, 'a positive integer', t[k]);
      }
    }
  }
  const target = v['target'] as Record<string, unknown> | undefined;
  if (typeof target !== 'object' || target === null) {
    throw optionError('preset.target', '{ train, validation, test } dataset sources', target);
  }
  checkKeys(target, ['train', 'validation', 'test'], 'preset.target');
  for (const role of ['train', 'validation', 'test']) {
    validateDatasetSource(target[role], `preset.target.${role}`);
  }
  const experiment = v['experiment'];
  if (typeof experiment !== 'object' || experiment === null) {
    throw optionError('preset.experiment', 'strategies, seeds and budget', experiment);
  }
  validateExperimentConfig({ ...experiment, name: v['name'] }, 'preset.experiment');
  const sweep = v['sweep'] as Record<string, unknown> | undefined;
  if (sweep !== undefined) {
    checkKeys(sweep, ['trainSize'], 'preset.sweep');
    const sizes = sweep['trainSize'];
    if (
      !Array.isArray(sizes) ||
      sizes.length === 0 ||
      !sizes.every((n) => Number.isInteger(n) && (n as number) > 0)
    ) {
      throw optionError('preset.sweep.trainSize', 'a non-empty array of positive integers', sizes);
    }
  }
  return value as ExperimentPreset;
}

/** Progress of {@link runPreset}. */
export type PresetEvent =
  | { type: 'data'; role: string; count: number; fingerprint?: string }
  | { type: 'base-reused'; dir: string; sourceAccuracy: number | null }
  | { type: 'base-start'; epochs: number; count: number }
  | { type: 'base-epoch'; stats: EpochStats; epochs: number }
  | { type: 'base-end'; dir: string; sourceAccuracy: number | null; seconds: number }
  | { type: 'experiment'; experiment: string; event: ExperimentEvent };

/** Options of {@link runPreset}. */
export interface RunPresetOptions {
  /** Results directory: the base model (`base/`), runs, reports; rerun to resume. */
  dir: string;
  /** Relative paths of the preset resolve against this (default the working directory). */
  baseDir?: string;
  /** Progress events. */
  onEvent?: (event: PresetEvent) => void;
  /** Aborting stops the current run with `ABORTED`; finished runs stay on disk. */
  signal?: AbortSignal;
  /** Also save every run's model directory (default false). */
  saveModels?: boolean;
}

/** What {@link runPreset} returns. */
export interface PresetResult {
  /** The base model directory and its accuracy on its own test set. */
  base: { dir: string; reused: boolean; sourceAccuracy: number | null };
  /** One experiment, or one per sweep size. */
  experiments: ExperimentResult[];
  /** The report of each experiment. */
  reports: WrittenReport[];
  /** The sweep summary, when the preset sweeps. */
  sweep: SweepResult | null;
  /** The sweep's report, when it sweeps. */
  sweepReport: WrittenSweepReport | null;
  /** Wall seconds of this invocation, base training included. */
  wallSeconds: number;
}

/**
 * Runs a preset end to end: loads the data, trains the base (or reuses the one a previous run
 * kept in `<dir>/base`, or the preset's `base.dir`), runs the experiment (once per sweep size),
 * and writes each report (and the sweep's). Runs finished by an earlier, interrupted invocation
 * are skipped.
 *
 * @param preset - the preset (validated here)
 * @param options - results `dir`, `baseDir`, `onEvent`, `signal`, `saveModels`
 * @returns the experiments, their reports and the sweep
 * @throws {@link TransferError} with the codes of {@link runExperiment}, plus `READ_FAILED` when a
 *   dataset cannot be loaded
 * @example
 * ```ts
 * const preset = validatePreset(JSON.parse(await readFile('presets/default.json', 'utf8')));
 * const { reports } = await runPreset(preset, { dir: './results/default', onEvent: console.log });
 * console.log(reports[0]?.html);
 * ```
 */
export async function runPreset(
  preset: ExperimentPreset,
  options: RunPresetOptions,
): Promise<PresetResult> {
  validatePreset(preset);
  checkKeys(options, ['dir', 'baseDir', 'onEvent', 'signal', 'saveModels'], 'runPreset options');
  if (typeof options?.dir !== 'string')
    throw optionError('dir', 'a results directory', options?.dir);
  const started = performance.now();
  const dir = path.resolve(options.dir);
  const baseDir = options.baseDir ?? process.cwd();
  const emit = (e: PresetEvent): void => options.onEvent?.(e);
  await initRuntime();
  const load = async (source: DatasetSource, where: string): Promise<ImageDataset> => {
    const ds = await loadDatasetSource(source, { baseDir, where });
    emit({ type: 'data', role: where, count: ds.shape[0] });
    return ds;
  };

  let baseModelDir: string;
  let reused = true;
  let sourceAccuracy: number | null = null;
  if ('dir' in preset.base) {
    baseModelDir = path.resolve(baseDir, preset.base.dir);
    sourceAccuracy = preset.base.sourceAccuracy ?? null;
    emit({ type: 'base-reused', dir: baseModelDir, sourceAccuracy });
  } else {
    const t = preset.base.train;
    baseModelDir = path.join(dir, 'base');
    const key = `sha256:${sha256Hex(JSON.stringify(t))}`;
    const kept = await readModelMeta(baseModelDir).catch(() => undefined);
    if (kept !== undefined && kept['mlshipPresetBase'] === key) {
      sourceAccuracy =
        kept.metricsDataset === 'test' && typeof kept.metrics['accuracy'] === 'number'
          ? kept.metrics['accuracy']
          : null;
      emit({ type: 'base-reused', dir: baseModelDir, sourceAccuracy });
    } else {
      reused = false;
      const t0 = performance.now();
      const trainSet = await load(t.data, 'base.train.data');
      const testSet = t.test === undefined ? undefined : await load(t.test, 'base.train.test');
      const spec =
        t.spec ?? defaultCnnSpec({ classes: trainSet.classNames.length, ...(t.model ?? {}) });
      const epochs = t.epochs ?? 5;
      emit({ type: 'base-start', epochs, count: trainSet.shape[0] });
      const model = buildModel(spec, { seed: t.seed ?? 1 });
      try {
        const result = await train(model, trainSet, {
          epochs,
          batchSize: t.batchSize ?? 32,
          learningRate: t.learningRate ?? 0.001,
          seed: t.seed ?? 1,
          workers: t.workers ?? 0,
          input: spec.input,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          onEpochEnd: (stats) => emit({ type: 'base-epoch', stats, epochs }),
        });
        const ev = testSet === undefined ? undefined : await evaluate(model, testSet);
        sourceAccuracy = ev?.accuracy ?? null;
        await saveModelDir(
          model,
          baseModelDir,
          {
            labels: trainSet.classNames,
            spec,
            training: result.params,
            history: result.history,
            metrics: ev === undefined ? {} : { accuracy: ev.accuracy, loss: ev.loss },
            ...(ev === undefined ? {} : { metricsDataset: 'test' }),
            datasets:
              testSet === undefined ? { train: trainSet } : { train: trainSet, test: testSet },
            strategy: 'scratch',
            extra: { mlshipPresetBase: key, mlshipPreset: preset.name },
          },
          { overwrite: true },
        );
      } catch (e) {
        throw asTransferError(e, 'INVALID_DATA', 'training the base model');
      } finally {
        model.dispose();
      }
      emit({
        type: 'base-end',
        dir: baseModelDir,
        sourceAccuracy,
        seconds: (performance.now() - t0) / 1000,
      });
    }
  }

  const targetTrain = await load(preset.target.train, 'target.train');
  const validation = await load(preset.target.validation, 'target.validation');
  const test = await load(preset.target.test, 'target.test');
  const sizes = preset.sweep?.trainSize ?? [null];
  for (const n of sizes) {
    if (n !== null && n > targetTrain.shape[0]) {
      throw optionError(
        'preset.sweep.trainSize',
        `sizes of at most ${targetTrain.shape[0]} (the images of target.train)`,
        n,
      );
    }
  }
  const experiments: ExperimentResult[] = [];
  const reports: WrittenReport[] = [];
  for (const n of sizes) {
    const name = n === null ? preset.name : `${preset.name}-n${n}`;
    const expDir = n === null ? dir : path.join(dir, `n${n}`);
    const config: ExperimentConfig = { ...preset.experiment, name };
    const result = await runExperiment(
      config,
      {
        base: baseModelDir,
        data: { train: n === null ? targetTrain : take(targetTrain, n), validation, test },
        sourceAccuracy,
        notes: {
          preset: preset.name,
          ...(preset.description === undefined ? {} : { description: preset.description }),
          base: preset.base,
          target: preset.target,
          ...(n === null ? {} : { trainSize: n }),
        },
      },
      {
        dir: expDir,
        onEvent: (event) => emit({ type: 'experiment', experiment: name, event }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.saveModels === undefined ? {} : { saveModels: options.saveModels }),
      },
    );
    experiments.push(result);
    reports.push(await writeReport(result, expDir));
  }
  let sweep: SweepResult | null = null;
  let sweepReport: WrittenSweepReport | null = null;
  if (preset.sweep !== undefined) {
    sweep = summarizeSweep(preset.name, preset.sweep.trainSize, experiments);
    sweepReport = await writeSweepReport(sweep, dir);
  }
  if (experiments.length === 0) {
    throw new TransferError('INVALID_OPTION', 'preset: nothing to run', {
      data: { path: 'preset' },
    });
  }
  return {
    base: { dir: baseModelDir, reused, sourceAccuracy },
    experiments,
    reports,
    sweep,
    sweepReport,
    wallSeconds: (performance.now() - started) / 1000,
  };
}
