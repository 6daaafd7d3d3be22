export type { ImageDataset, DataFs, DataFsStats } from './types.js';
export { DataError, isDataError } from './errors.js';
export type { DataErrorCode, DataErrorData, DataErrorOptions } from './errors.js';
export { parseIdx, loadIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from './idx.js';
export type { IdxArray, ParseIdxOptions, LoadIdxOptions } from './idx.js';
export {
  loadMnist,
  loadFashionMnist,
  MNIST_CLASS_NAMES,
  FASHION_MNIST_CLASS_NAMES,
} from './mnist.js';
export type { LoadMnistOptions, LoadFashionMnistOptions } from './mnist.js';
export { loadImageFolder } from './image-folder.js';
export { decodeImage } from './decode-image.js';
export type { DecodeImageOptions, DecodedImage } from './decode-image.js';
export type { LoadImageFolderOptions, ImageFolderDataset, SkippedFile } from './image-folder.js';
export { validateDataset } from './dataset.js';
export { createRng } from './random.js';
export type { Rng } from './random.js';
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
} from './ops.js';
export type {
  SplitSizes,
  SplitResult,
  FilterClassesOptions,
  BatchesOptions,
  ToFloat32Options,
} from './ops.js';
export { applyShift, composeShifts, validateShift } from './shifts.js';
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
} from './shifts.js';
export { fingerprint, FINGERPRINT_FORMAT } from './fingerprint.js';
