export { TransferError, isTransferError, TRANSFER_ERROR_CODES } from './errors';
export type { TransferErrorCode, TransferErrorData } from './errors';
export {
  STRATEGY_KINDS,
  validateStrategy,
  validateSelection,
  strategyLabel,
  withDefaults,
} from './strategy';
export type {
  Strategy,
  StrategyKind,
  StrategyBase,
  ScratchStrategy,
  FineTuneStrategy,
  FreezeStrategy,
  ReplaceHeadStrategy,
  TwoPhaseStrategy,
  FeatureCacheStrategy,
  LayerSelection,
} from './strategy';
export { selectLayers } from './selection';
export { loadBase } from './base';
export type { BaseModel, TransferBase, LoadBaseOptions } from './base';
export { countParameters } from './prepare';
export type { ParameterCounts } from './prepare';
export { transfer, validateBudget } from './transfer';
export type {
  Budget,
  TransferData,
  TransferEpoch,
  TransferOptions,
  TransferResult,
} from './transfer';
export { validateExperimentConfig } from './experiment/config';
export type { ExperimentConfig, ExperimentTraining } from './experiment/config';
export { runExperiment } from './experiment/runner';
export type { ExperimentInput, RunExperimentOptions } from './experiment/runner';
export { meanSd } from './experiment/aggregate';
export { EXPERIMENT_FORMAT } from './experiment/types';
export type {
  RunResult,
  MeanSd,
  StrategySummary,
  TimeToAccuracy,
  Finding,
  BaseReference,
  ExperimentSettings,
  ExperimentResult,
  ExperimentEvent,
} from './experiment/types';
export { formatMarkdown } from './report/markdown';
export { chartSpecs, renderSvg, renderCharts } from './report/charts';
export type { Chart } from './report/charts';
export { formatHtml } from './report/html';
export { writeReport } from './report/write';
export type { WrittenReport } from './report/write';
export { validateDatasetSource, loadDatasetSource } from './preset/sources';
export type { DatasetSource } from './preset/sources';
export { validatePreset, runPreset } from './preset/preset';
export type {
  BaseTraining,
  ExperimentPreset,
  PresetEvent,
  RunPresetOptions,
  PresetResult,
} from './preset/preset';
export { formatSweepMarkdown, writeSweepReport } from './preset/sweep';
export type { SweepResult, WrittenSweepReport } from './preset/sweep';
