export type { ImageDataset, DataFs, DataFsStats } from './types';
export { DataError, isDataError, DATA_ERROR_CODES } from './errors';
export type { DataErrorCode, DataErrorData, DataErrorOptions } from './errors';
export { parseIdx, loadIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from './idx';
export type { IdxArray, ParseIdxOptions, LoadIdxOptions } from './idx';
export { loadMnist, loadFashionMnist, MNIST_CLASS_NAMES, FASHION_MNIST_CLASS_NAMES } from './mnist';
export type { LoadMnistOptions, LoadFashionMnistOptions } from './mnist';
export { loadImageFolder, MAX_IMAGE_FILE_BYTES } from './image-folder';
export { decodeImage } from './decode-image';
export type { DecodeImageOptions, DecodedImage } from './decode-image';
export type { LoadImageFolderOptions, ImageFolderDataset, SkippedFile } from './image-folder';
export { validateDataset } from './dataset';
export { createRng } from './random';
export type { Rng } from './random';
export {
  slice,
  take,
  skip,
  shuffle,
  split,
  stratifiedSplit,
  filterClasses,
  concat,
  batches,
  toFloat32,
} from './ops';
export type {
  SplitSizes,
  SplitResult,
  FilterClassesOptions,
  BatchesOptions,
  ToFloat32Options,
} from './ops';
export { applyShift, composeShifts, validateShift } from './shifts';
export type {
  ShiftSpec,
  RotateShift,
  TranslateShift,
  ScaleShift,
  NoiseShift,
  InvertShift,
  BlurShift,
  ElasticShift,
  ComposeShift,
} from './shifts';
export { fingerprint, FINGERPRINT_FORMAT } from './fingerprint';
export { populationStabilityIndex } from './drift';
export type { PsiOptions, PsiResult, PsiBin } from './drift';
