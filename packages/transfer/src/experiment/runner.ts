import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { createFsAdapter, sha256Hex } from '@mlship/core';
import type { ImageDataset } from '@mlship/data';
import { fingerprint } from '@mlship/data';
import type { ParentRef } from '@mlship/model';
import { evaluate } from '@mlship/model';
import { tf } from '@mlship/tf';
import type { BaseModel, TransferBase } from '../base';
import { loadBase } from '../base';
import { TransferError, asTransferError, checkKeys, optionError } from '../errors';
import { checkStrategyAgainst } from '../prepare';
import { strategyLabel, withDefaults } from '../strategy';
import { transfer } from '../transfer';
import { checkFindings, summarize, timeToAccuracy } from './aggregate';
import type { ExperimentConfig, ExperimentTraining } from './config';
import { validateExperimentConfig } from './config';
import type {
  BaseReference,
  ExperimentEvent,
  ExperimentResult,
  ExperimentSettings,
  RunResult,
} from './types';
import { EXPERIMENT_FORMAT } from './types';

/** The data and base model of an experiment (the parts that are not JSON). */
export interface ExperimentInput {
  /** The base model: a model directory, a LayersModel, or a base from `loadBase`. */
  base: BaseModel;
  /** The target data: `train` to train on, `validation` after every epoch, `test` at the end. */
  data: { train: ImageDataset; validation: ImageDataset; test: ImageDataset };
  /**
   * The base model's accuracy on its own test set, "the old level" the findings compare with
   * (default: its `mlship.json` `metrics.accuracy` when `metricsDataset` is `'test'`, else unknown).
   */
  sourceAccuracy?: number | null;
  /** Free-form settings kept in the result (dataset descriptions, the shift, the preset). */
  notes?: Record<string, unknown>;
}

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  /**
   * Results directory: every finished run is kept as `runs/<label>--seed-<seed>.json` (written
   * atomically), runs already there with the same inputs are skipped when the experiment is run
   * again, and `experiment.json` is written at the end. Without it nothing is kept.
   */
  dir?: string;
  /** Progress: one event per stage of every run (see {@link ExperimentEvent}). */
  onEvent?: (event: ExperimentEvent) => void;
  /** Aborting stops the current run with `ABORTED`; it leaves no result file (finished runs stay). */
  signal?: AbortSignal;
  /** Also save every run's model directory under `<dir>/models/<label>--seed-<seed>` (default false). */
  saveModels?: boolean;
  /** What saved models record as `parent` (default: see `loadBase`). */
  parent?: ParentRef;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

const TRAINING_DEFAULTS: Required<ExperimentTraining> = {
  batchSize: 32,
  learningRate: 0.001,
  optimizer: 'adam',
  workers: 0,
};

/** sha256 over the model's topology and every weight's bytes: the identity of the base. @internal */
export function weightsDigest(model: tf.LayersModel): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(model.toJSON(undefined, false)));
  for (const w of model.getWeights()) {
    const data = w.dataSync() as Float32Array;
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * The file name of a run: `<label>--seed-<seed>.json`.
 *
 * @internal
 */
export function runFileName(label: string, seed: number): string {
  return `${label}--seed-${seed}.json`;
}

/**
 * Runs every strategy × seed of an experiment from one base model on one target dataset with the
 * same budget, and aggregates the results (mean ± sd over seeds, validation curves, time to
 * accuracy, the thesis's findings). With `dir`, finished runs are kept on disk and skipped when
 * the experiment is started again with the same inputs; an aborted or failed run leaves no file.
 *
 * @param config - strategies, seeds, budget, training settings, thresholds (JSON, see {@link ExperimentConfig})
 * @param input - the base model and the target's train / validation / test sets
 * @param options - results `dir`, `onEvent`, `signal`, `saveModels`, `parent`, `now`
 * @returns every run and the summary (also written to `<dir>/experiment.json`)
 * @throws {@link TransferError} `INVALID_STRATEGY` / `INVALID_OPTION` for a bad config (checked
 *   against the base before any run starts), `INCOMPATIBLE_DATA`, `ABORTED`, `TRAINING_DIVERGED`,
 *   `WRITE_FAILED` / `READ_FAILED`, and the base directory's codes
 * @example
 * ```ts
 * const result = await runExperiment(
 *   { name: 'shifted', strategies: [{ kind: 'scratch' }, { kind: 'fineTune' }], seeds: [1, 2, 3], budget: { epochs: 3 } },
 *   { base: './models/cnn-v1', data: { train, validation, test } },
 *   { dir: './results/shifted', onEvent: (e) => console.log(e.type) },
 * );
 * console.table(result.summary.map((s) => [s.strategy, s.testAccuracy.mean]));
 * ```
 */
export async function runExperiment(
  config: ExperimentConfig,
  input: ExperimentInput,
  options: RunExperimentOptions = {},
): Promise<ExperimentResult> {
  validateExperimentConfig(config);
  checkKeys(input, ['base', 'data', 'sourceAccuracy', 'notes'], 'experiment input');
  checkKeys(
    options,
    ['dir', 'onEvent', 'signal', 'saveModels', 'parent', 'now'],
    'runExperiment options',
  );
  const data = input.data;
  for (const role of ['train', 'validation', 'test'] as const) {
    if (data?.[role] === undefined)
      throw optionError(`input.data.${role}`, 'an ImageDataset', undefined);
  }
  if (options.saveModels === true && options.dir === undefined) {
    throw optionError(
      'options.saveModels',
      'a results dir to save models under (options.dir)',
      true,
    );
  }
  const now = options.now ?? (() => performance.now());
  const started = now();
  const emit = (e: ExperimentEvent): void => options.onEvent?.(e);
  const io = createFsAdapter();
  const dir = options.dir === undefined ? undefined : path.resolve(options.dir);
  const thresholds = config.thresholds ?? [0.9, 0.95];
  const training = { ...TRAINING_DEFAULTS, ...(config.training ?? {}) };

  const owned = typeof input.base === 'string';
  const base: TransferBase = await loadBase(
    input.base,
    options.parent === undefined ? {} : { parent: options.parent },
  );
  try {
    // Every strategy against the base before hours of training: a typo fails now.
    config.strategies.forEach((s, i) =>
      checkStrategyAgainst(base, withDefaults(s), `experiment.strategies[${i}]`),
    );
    const dataRefs = {
      train: { fingerprint: fingerprint(data.train), count: data.train.shape[0] },
      validation: { fingerprint: fingerprint(data.validation), count: data.validation.shape[0] },
      test: { fingerprint: fingerprint(data.test), count: data.test.shape[0] },
    };
    const baseDigest = weightsDigest(base.model);
    let reference: BaseReference;
    try {
      const ev = await evaluate(base.model, data.test, { input: base.input });
      const meta = base.meta;
      const fromMeta =
        meta !== null &&
        meta.metricsDataset === 'test' &&
        typeof meta.metrics['accuracy'] === 'number'
          ? meta.metrics['accuracy']
          : null;
      reference = {
        sourceAccuracy: input.sourceAccuracy === undefined ? fromMeta : input.sourceAccuracy,
        targetAccuracy: ev.accuracy,
        targetLoss: ev.loss,
      };
    } catch (e) {
      throw asTransferError(e, 'INCOMPATIBLE_DATA', 'evaluating the base model on data.test');
    }
    const settings: ExperimentSettings = {
      strategies: config.strategies,
      seeds: config.seeds,
      budget: config.budget,
      training,
      thresholds,
      data: dataRefs,
      base: {
        name: base.name,
        parent: base.parent,
        weights: baseDigest,
        parameters: base.model.countParams(),
      },
      runtime: {
        backend: tf.getBackend(),
        node: process.version,
        cpus: os.cpus().length,
        platform: `${os.platform()} ${os.arch()}`,
      },
      notes: input.notes ?? {},
    };

    const plan = config.strategies.flatMap((s) => config.seeds.map((seed) => ({ s, seed })));
    const total = plan.length;
    const keyOf = (s: (typeof plan)[number]): string =>
      `sha256:${sha256Hex(
        JSON.stringify({
          strategy: withDefaults(s.s),
          seed: s.seed,
          budget: config.budget,
          training,
          data: dataRefs,
          base: baseDigest,
        }),
      )}`;
    const runsDir = dir === undefined ? undefined : path.join(dir, 'runs');
    const readRun = async (file: string, key: string): Promise<RunResult | 'stale' | undefined> => {
      let text: string | undefined;
      try {
        text = await io.readText(file);
      } catch (e) {
        throw new TransferError(
          'READ_FAILED',
          `reading run file ${file} failed: ${(e as Error).message}`,
          {
            cause: e,
            data: { path: file },
          },
        );
      }
      if (text === undefined) return undefined;
      try {
        const run = JSON.parse(text) as RunResult;
        return run.key === key ? run : 'stale';
      } catch {
        return 'stale';
      }
    };

    const existing = new Map<number, RunResult>();
    if (runsDir !== undefined) {
      for (const [i, p] of plan.entries()) {
        const found = await readRun(
          path.join(runsDir, runFileName(strategyLabel(p.s), p.seed)),
          keyOf(p),
        );
        if (found !== undefined && found !== 'stale') existing.set(i, found);
      }
    }
    emit({ type: 'start', name: config.name, runs: total, done: existing.size, reference });

    const runs: RunResult[] = [];
    for (const [i, p] of plan.entries()) {
      const label = strategyLabel(p.s);
      const index = i + 1;
      const key = keyOf(p);
      const file =
        runsDir === undefined ? undefined : path.join(runsDir, runFileName(label, p.seed));
      const kept = existing.get(i);
      if (kept !== undefined) {
        // Thresholds may have changed since: recompute from the kept history.
        const result = { ...kept, timeToAccuracy: timeToAccuracy(kept.history, thresholds) };
        runs.push(result);
        emit({ type: 'run-skipped', index, total, strategy: label, seed: p.seed, result });
        continue;
      }
      if (file !== undefined && (await io.exists(file))) {
        emit({ type: 'run-stale', index, total, strategy: label, seed: p.seed, file });
      }
      if (options.signal?.aborted) {
        throw new TransferError(
          'ABORTED',
          `experiment ${config.name} aborted before run ${index} of ${total}`,
          {
            cause: options.signal.reason,
          },
        );
      }
      emit({ type: 'run-start', index, total, strategy: label, seed: p.seed });
      const modelDir =
        options.saveModels === true && dir !== undefined
          ? path.join(dir, 'models', `${label}--seed-${p.seed}`)
          : undefined;
      const r = await transfer(base, p.s, data, {
        seed: p.seed,
        budget: config.budget,
        batchSize: training.batchSize,
        learningRate: training.learningRate,
        optimizer: training.optimizer,
        workers: training.workers,
        now,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(modelDir === undefined ? {} : { outDir: modelDir, overwrite: true }),
        onProgress: (progress) =>
          emit({ type: 'progress', index, total, strategy: label, seed: p.seed, progress }),
        onEpochEnd: (epoch) =>
          emit({ type: 'epoch', index, total, strategy: label, seed: p.seed, epoch }),
      });
      r.model.dispose();
      const result: RunResult = {
        strategy: label,
        kind: p.s.kind,
        seed: p.seed,
        key,
        config: r.strategy,
        history: r.history,
        parameters: r.parameters,
        phase2Parameters: r.phase2Parameters,
        frozenLayers: r.frozenLayers,
        seconds: r.seconds,
        prepareSeconds: r.prepareSeconds,
        epochSeconds: r.epochSeconds,
        imagesPerSec: r.imagesPerSec,
        test: r.test!,
        timeToAccuracy: timeToAccuracy(r.history, thresholds),
        modelDir: r.saved?.dir ?? null,
        finished: new Date().toISOString(),
      };
      if (file !== undefined) {
        try {
          await io.writeAtomic(file, `${JSON.stringify(result, null, 2)}\n`, { fsync: true });
        } catch (e) {
          throw new TransferError(
            'WRITE_FAILED',
            `writing run file ${file} failed: ${(e as Error).message}`,
            {
              cause: e,
              data: { path: file },
            },
          );
        }
      }
      runs.push(result);
      emit({ type: 'run-end', index, total, strategy: label, seed: p.seed, result });
    }

    const summary = summarize(config.strategies, runs, thresholds);
    const result: ExperimentResult = {
      format: EXPERIMENT_FORMAT,
      name: config.name,
      settings,
      reference,
      runs,
      summary,
      findings: checkFindings(summary, reference),
      wallSeconds: (now() - started) / 1000,
      runSeconds: runs.reduce((a, r) => a + r.seconds, 0),
      finished: new Date().toISOString(),
    };
    if (dir !== undefined) {
      const file = path.join(dir, 'experiment.json');
      try {
        await io.writeAtomic(file, `${JSON.stringify(result, null, 2)}\n`, { fsync: true });
      } catch (e) {
        throw new TransferError('WRITE_FAILED', `writing ${file} failed: ${(e as Error).message}`, {
          cause: e,
          data: { path: file },
        });
      }
    }
    emit({ type: 'end', result });
    return result;
  } finally {
    if (owned) base.model.dispose();
  }
}
