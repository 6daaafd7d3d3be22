export {
  MlshipError,
  CoreError,
  isMlshipError,
  isCoreError,
  errorGuard,
  asPackageError,
  describeError,
  SHARED_ERROR_CODES,
  CORE_ERROR_CODES,
} from './errors';
export type {
  SharedErrorCode,
  CoreErrorCode,
  IntegrityReason,
  MlshipErrorData,
  MlshipErrorOptions,
  MlshipErrorJSON,
  ErrorClass,
} from './errors';
export { checkOptions } from './options';
export { isValidName, assertValidName, NAME_GRAMMAR } from './names';
export { isSafeRelativePath, joinPath, parentPath, baseName } from './paths';
export { createRng, isValidSeed, mixSeed, permutation } from './rng';
export type { Rng } from './rng';
export { FsAdapter, createFsAdapter, nodeFileSystem, errnoCode, sha256Hex } from './fs';
export type {
  MlshipFs,
  MlshipStats,
  MlshipFileHandle,
  PathKind,
  RegularFileResult,
  WriteOptions,
  WriteAtomicOptions,
} from './fs';
export { writeDirectoryAtomic } from './atomic-dir';
export type { WriteDirectoryOptions } from './atomic-dir';
export {
  MODEL_META_FORMAT,
  MODEL_META_FILE,
  MODEL_JSON_FILE,
  validateModelMeta,
  weightPathsOf,
} from './meta';
export type { ModelMeta, InputSpec, EpochStats, DatasetRef, ParentRef, FileEntry } from './meta';
export {
  readModelMeta,
  listModelDirFiles,
  verifyModelFiles,
  readModelFiles,
  verifyModelFileSet,
} from './model-dir';
export type {
  ModelDirOptions,
  VerifiedFile,
  VerifiedFileWithData,
  VerifiedModelDir,
} from './model-dir';
