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
