import type { DatasetRef, ParentRef, TrainProgress } from '@mlship/model';
import type { ParameterCounts } from '../prepare';
import type { Strategy, StrategyKind } from '../strategy';
import type { Budget, TransferEpoch } from '../transfer';
import type { ExperimentTraining } from './config';

/**
 * The `format` of an experiment result file (`experiment.json`).
 *
 * @example
 * ```ts
 * if (json.format !== EXPERIMENT_FORMAT) throw new Error('not an mlship experiment result');
 * ```
 */
export const EXPERIMENT_FORMAT = 'mlship-transfer-experiment/1';

/** The first wall time (seconds from the run's start) validation accuracy reached a threshold. */
export interface TimeToAccuracy {
  /** The validation accuracy aimed at. */
  threshold: number;
  /** Seconds, or null when the run never reached it. */
  seconds: number | null;
  /** The epoch that reached it, or null. */
  epoch: number | null;
}

/** One finished strategy × seed run, as kept on disk (`runs/<label>--seed-<seed>.json`). */
export interface RunResult {
  /** The strategy's label. */
  strategy: string;
  /** Its kind. */
  kind: StrategyKind;
  /** The seed. */
  seed: number;
  /** Identifies the run's inputs (strategy, seed, budget, training, data, base weights); a run file with another key is stale. */
  key: string;
  /** The strategy as applied (defaults written out). */
  config: Strategy;
  /** Per-epoch statistics (validation accuracy/loss, seconds, elapsed wall time). */
  history: TransferEpoch[];
  /** Parameter counts at the start. */
  parameters: ParameterCounts;
  /** twoPhase: counts in phase 2. */
  phase2Parameters: ParameterCounts | null;
  /** Layers frozen at the start. */
  frozenLayers: string[];
  /** Wall seconds of the run (preparation, caching, training, validation). */
  seconds: number;
  /** Wall seconds before the first epoch. */
  prepareSeconds: number;
  /** Mean training-step seconds per epoch. */
  epochSeconds: number;
  /** Training images per wall second. */
  imagesPerSec: number;
  /** Final test accuracy and loss. */
  test: { accuracy: number; loss: number };
  /** Time to each threshold. */
  timeToAccuracy: TimeToAccuracy[];
  /** Where the run's model directory was saved, or null. */
  modelDir: string | null;
  /** ISO time the run finished. */
  finished: string;
}

/** A mean and (sample) standard deviation over seeds; `sd` is 0 for one seed. */
export interface MeanSd {
  /** Mean. */
  mean: number;
  /** Sample standard deviation (n - 1). */
  sd: number;
  /** Number of values. */
  n: number;
}

/** One strategy's results over its seeds. */
export interface StrategySummary {
  /** The label. */
  strategy: string;
  /** The kind. */
  kind: StrategyKind;
  /** Seeds run. */
  runs: number;
  /** Final test accuracy. */
  testAccuracy: MeanSd;
  /** Final test loss. */
  testLoss: MeanSd;
  /** Wall seconds per run. */
  seconds: MeanSd;
  /** Training-step seconds per epoch. */
  epochSeconds: MeanSd;
  /** Training images per wall second. */
  imagesPerSec: MeanSd;
  /** Trainable parameters at the start (the same for every seed). */
  trainableParams: number;
  /** Frozen parameters at the start. */
  frozenParams: number;
  /** Per epoch (over the seeds that ran it): validation accuracy, loss, and elapsed wall seconds. */
  epochs: { epoch: number; valAccuracy: MeanSd; valLoss: MeanSd; elapsed: MeanSd }[];
  /** Per threshold: how many seeds reached it, and their time to it. */
  timeToAccuracy: { threshold: number; reached: number; seconds: MeanSd | null }[];
}

/** One of the thesis's findings, checked against this experiment. */
export interface Finding {
  /** Stable id: `adapts`, `freezeReachesOldLevel`, `fineTuneBeatsOriginal`; a sweep's `advantageLargestWhenSmall`. */
  id: 'adapts' | 'freezeReachesOldLevel' | 'fineTuneBeatsOriginal' | 'advantageLargestWhenSmall';
  /** The claim as the thesis made it. */
  claim: string;
  /** Whether it held here; null when the experiment lacks what it needs (e.g. no freeze run). */
  held: boolean | null;
  /** The numbers behind the verdict, in one sentence. */
  evidence: string;
}

/** The base model's accuracy before any transfer, the reference the findings compare with. */
export interface BaseReference {
  /** On its own (source) test set — "the old level" — when known. */
  sourceAccuracy: number | null;
  /** On the target's test set, untouched. */
  targetAccuracy: number;
  /** Loss on the target's test set. */
  targetLoss: number;
}

/** What the experiment ran on, for the report's settings. */
export interface ExperimentSettings {
  /** The strategies compared (as given). */
  strategies: Strategy[];
  /** Seeds. */
  seeds: number[];
  /** Budget of every run. */
  budget: Budget;
  /** Shared training settings, defaults written out. */
  training: Required<ExperimentTraining>;
  /** Time-to-accuracy thresholds. */
  thresholds: number[];
  /** Target data fingerprints. */
  data: { train: DatasetRef; validation: DatasetRef; test: DatasetRef };
  /** The base model. */
  base: { name: string; parent: ParentRef; weights: string; parameters: number };
  /** TensorFlow.js backend and machine. */
  runtime: { backend: string; node: string; cpus: number; platform: string };
  /** Anything the caller adds (dataset descriptions, shift, preset name). */
  notes: Record<string, unknown>;
}

/** The whole experiment, as written to `experiment.json`. */
export interface ExperimentResult {
  /** Always {@link EXPERIMENT_FORMAT}. */
  format: typeof EXPERIMENT_FORMAT;
  /** The experiment's name. */
  name: string;
  /** Settings. */
  settings: ExperimentSettings;
  /** The base model before transfer. */
  reference: BaseReference;
  /** Every run, strategy-major, in seed order. */
  runs: RunResult[];
  /** Per strategy, mean ± sd over seeds, in the config's order. */
  summary: StrategySummary[];
  /** The thesis's findings, checked. */
  findings: Finding[];
  /** Wall seconds of this invocation (runs skipped on resume cost nothing). */
  wallSeconds: number;
  /** Sum of the runs' wall seconds, resumed ones included. */
  runSeconds: number;
  /** ISO time the experiment finished. */
  finished: string;
}

/** Progress of {@link runExperiment}: one event per stage of every run. */
export type ExperimentEvent =
  | { type: 'start'; name: string; runs: number; done: number; reference: BaseReference }
  | { type: 'run-start'; index: number; total: number; strategy: string; seed: number }
  | {
      type: 'run-skipped';
      index: number;
      total: number;
      strategy: string;
      seed: number;
      result: RunResult;
    }
  | {
      type: 'run-stale';
      index: number;
      total: number;
      strategy: string;
      seed: number;
      file: string;
    }
  | {
      type: 'progress';
      index: number;
      total: number;
      strategy: string;
      seed: number;
      progress: TrainProgress;
    }
  | {
      type: 'epoch';
      index: number;
      total: number;
      strategy: string;
      seed: number;
      epoch: TransferEpoch;
    }
  | {
      type: 'run-end';
      index: number;
      total: number;
      strategy: string;
      seed: number;
      result: RunResult;
    }
  | { type: 'end'; result: ExperimentResult };
