export { ModelError, isModelError, MODEL_ERROR_CODES } from './errors';
export type { ModelErrorCode, ModelErrorData } from './errors';
export { validateSpec } from './spec';
export type { ModelSpec } from './spec';
export { defaultCnnSpec, modelASpec } from './default-cnn';
export type { DefaultCnnOptions } from './default-cnn';
export { ACTIVATIONS } from './layers/fields';
export type { ActivationName, Size2D } from './layers/fields';
export type { LayerSpec, LayerType } from './layers/all-layers';
export type { LayerSpecBase, ModelPart } from './layers/layer-definition';
export type { Conv2dLayerSpec } from './layers/conv2d';
export type { MaxPooling2dLayerSpec } from './layers/max-pooling2d';
export type { BatchNormalizationLayerSpec } from './layers/batch-normalization';
export type { DropoutLayerSpec } from './layers/dropout';
export type { FlattenLayerSpec } from './layers/flatten';
export type { GlobalAveragePooling2dLayerSpec } from './layers/global-average-pooling2d';
export type { DenseLayerSpec } from './layers/dense';
export type { ActivationLayerSpec } from './layers/activation';
export { buildModel, layersOf, freeze, unfreeze } from './build';
export type { BuildModelOptions } from './build';
export { learningRateAt } from './train/schedule';
export type { LearningRateSchedule } from './train/schedule';
export { train } from './train/train';
export type {
  OptimizerName,
  MonitorName,
  EarlyStoppingOptions,
  TrainProgress,
  TrainOptions,
  TrainingParams,
  TrainResult,
  ParallelInfo,
} from './train/types';
export { evaluate, classMetrics } from './evaluate';
export type { ClassMetrics, Evaluation, EvaluateOptions } from './evaluate';
export { progressBar } from './progress-bar';
export type { ProgressBarOptions, ProgressStream } from './progress-bar';
export { predict } from './predict';
export type { ClassProbability, Prediction, PredictInput, PredictOptions } from './predict';
export { MODEL_META_FORMAT, MODEL_META_FILE } from '@mlship/core';
export type { InputSpec, EpochStats, DatasetRef, ParentRef, FileEntry } from '@mlship/core';
export { validateModelMeta } from './meta';
export type { ModelMeta } from './meta';
export { saveModelDir, readModelMeta, verifyModelDir, loadModelDir } from './model-dir';
export type { ModelMetaInput, SaveModelDirOptions, SavedModelDir } from './model-dir';
