export { ModelError, isModelError } from './errors';
export type { ModelErrorCode, ModelErrorData } from './errors';
export { ACTIVATIONS, validateSpec, defaultCnnSpec, modelASpec } from './spec';
export type {
  ActivationName,
  InputSpec,
  Size2D,
  Conv2dLayerSpec,
  MaxPooling2dLayerSpec,
  BatchNormalizationLayerSpec,
  DropoutLayerSpec,
  FlattenLayerSpec,
  GlobalAveragePooling2dLayerSpec,
  DenseLayerSpec,
  ActivationLayerSpec,
  LayerSpec,
  LayerType,
  ModelSpec,
  ModelPart,
  DefaultCnnOptions,
} from './spec';
export { buildModel, layersOf, freeze, unfreeze } from './build';
export type { BuildModelOptions } from './build';
export { learningRateAt } from './schedule';
export type { LearningRateSchedule } from './schedule';
export { train } from './train';
export type {
  OptimizerName,
  MonitorName,
  EarlyStoppingOptions,
  TrainProgress,
  TrainOptions,
  TrainingParams,
  TrainResult,
  ParallelInfo,
} from './train';
export { evaluate, classMetrics } from './evaluate';
export type { ClassMetrics, Evaluation, EvaluateOptions } from './evaluate';
export { predict } from './predict';
export type { ClassProbability, Prediction, PredictInput, PredictOptions } from './predict';
export { MODEL_META_FORMAT, MODEL_META_FILE, validateModelMeta } from './meta';
export type { ModelMeta, EpochStats, DatasetRef, ParentRef, FileEntry } from './meta';
export { saveModelDir, readModelMeta, verifyModelDir, loadModelDir } from './model-dir';
export type { ModelMetaInput, SaveModelDirOptions, SavedModelDir } from './model-dir';
