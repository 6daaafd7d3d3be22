export { createServer, MlshipServer } from './server';
export type { ListeningAddress, ModelState } from './server';
export type {
  ServeOptions,
  ModelConfig,
  ModelSource,
  BatchingOptions,
  LimitOptions,
  CorsSetting,
} from './options';
export type { VersionStatus } from './served-model';
export { ServeError, isServeError, httpStatusOf, SERVE_ERROR_CODES } from './errors';
export type { ServeErrorCode, ServeErrorData } from './errors';
export { createJsonLogger, silentLogger } from './logger';
export type { ServeLogger, LogLevel, JsonLoggerOptions } from './logger';
export { parseArgs } from './cli';
export type { CliOptions } from './cli';
