export { REGISTRY_ERROR_CODES, RegistryError, isRegistryError } from './errors';
export type { IntegrityReason, RegistryErrorCode, RegistryErrorData } from './errors';
export { Registry } from './registry';
export { openRegistry } from './commands/open';
export type {
  OpenRegistryOptions,
  RegisterOptions,
  EventOptions,
  DatasetInfo,
  ResolvedVersion,
  DeregisterResult,
  VersionRecord,
  VersionSummary,
  ModelSummary,
  VersionFile,
  VersionDetails,
  StageEvent,
  LineageStep,
  CheckoutResult,
  CheckoutOptions,
  RegistryDiff,
  MetricDiff,
  ParamDiff,
  DatasetDiff,
  FileDiff,
  FormatDiffOptions,
  RemoteOptions,
  PushResult,
  PullOptions,
  PullConflict,
  PullResult,
  LockOptions,
  Identity,
  ModelFileInfo,
  RegistryFs,
} from './types';
export { formatDiffMarkdown } from './format-diff';
export { isValidName, parseTag, parseVersionRef, versionTag, stageTag } from './names';
export type { ParsedTag, VersionRef } from './names';
