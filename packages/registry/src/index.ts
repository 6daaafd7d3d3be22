export { RegistryError, isRegistryError } from './errors.js';
export type { RegistryErrorCode, RegistryErrorData } from './errors.js';
export { Registry, openRegistry } from './registry.js';
export type {
  OpenRegistryOptions,
  RegisterOptions,
  DatasetInfo,
  ResolvedVersion,
  VersionRecord,
  VersionSummary,
  ModelSummary,
  VersionFile,
  VersionDetails,
  StageEvent,
  LineageStep,
  CheckoutResult,
  CheckoutOptions,
} from './registry.js';
export { formatDiffMarkdown } from './diff.js';
export type { RegistryDiff, MetricDiff, ParamDiff, DatasetDiff, FileDiff } from './diff.js';
export type { RemoteOptions, PushResult, PullResult } from './remote.js';
export { isValidName, parseTag, parseVersionRef, versionTag, stageTag } from './names.js';
export type { ParsedTag, VersionRef } from './names.js';
export type { RegistryFs } from './fs.js';
export type { LockOptions } from './lock.js';
export type { Identity } from './objects.js';
export type { ModelFileInfo } from './modeldir.js';
export { writeModelDirForTesting, MODEL_A_LAYERS } from './testing.js';
export type { TestModelDirOptions } from './testing.js';
