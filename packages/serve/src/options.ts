import { checkOptions, isValidName, NAME_GRAMMAR } from '@mlship/core';
import { ServeError } from './errors';
import type { ServeLogger } from './logger';
import { silentLogger } from './logger';

/**
 * Where a served model comes from:
 *
 * - a model directory path (`'./models/cnn'`, or `{ dir }`): served as version 1; when its
 *   `mlship.json` changes (a new model saved over it) the new content is loaded as version 2, 3, ...
 * - a registry reference `{ registry, ref }` in a local registry (working tree or bare):
 *   `cnn#production` (a stage: followed as it moves, and the stage name is a TF Serving version
 *   label), `cnn@latest` / `cnn` (followed; label `latest`), `cnn@v3` (fixed).
 *
 * `label` overrides the label a source answers to (`/v1/models/{m}/labels/{label}`).
 */
export type ModelSource =
  string | { dir: string; label?: string } | { registry: string; ref: string; label?: string };

/** One served model: its URL name and its source(s). The first source is the default version. */
export interface ModelConfig {
  /** The name in URLs (`/v1/models/{name}`, `/v2/models/{name}`), in the core name grammar. */
  name: string;
  /**
   * One source, or several (versions / stages of one model from the same registry). With
   * several, the first answers requests that name no version or label.
   */
  source: ModelSource | readonly ModelSource[];
}

/** Adaptive batching (see README): coalesce concurrent requests of one version into one inference. */
export interface BatchingOptions {
  /** Most images in one inference call (default 64). */
  maxBatchSize?: number;
  /**
   * How long the first queued request waits for companions while the workers are idle, in ms
   * (default 0: while the workers are busy, requests accumulate anyway; measured best on 2 cores).
   */
  maxDelayMs?: number;
  /** Most images waiting per version; past it requests are answered 503 (default 1024). */
  maxQueue?: number;
}

/** Request limits: anything past them is answered 4xx. */
export interface LimitOptions {
  /** Largest request body in bytes (default 8 MiB); larger → 413. */
  bodyBytes?: number;
  /** Most images in one request (default 256); more → 400. */
  instances?: number;
  /** Largest decoded image (width x height) accepted as `{"b64": ...}` (default 4096 x 4096). */
  imagePixels?: number;
}

/** CORS: `true` allows any origin, a string or list allows those origins, `false` (default) none. */
export type CorsSetting = boolean | string | readonly string[];

/** Options of {@link createServer}. */
export interface ServeOptions {
  /** The models to serve (at least one). */
  models: readonly ModelConfig[];
  /** Interface to listen on (default `127.0.0.1`; `0.0.0.0` in a container). */
  host?: string;
  /** Port (default 8080; 0 picks a free one, see `start()`'s result). */
  port?: number;
  /**
   * Inference worker threads per loaded version (default 1, measured best on 2 cores: the event
   * loop needs the other core for HTTP and JSON). 0 runs inference on the event loop itself.
   */
  workers?: number;
  /** Batching options, or `false` to run every request as its own inference. */
  batching?: BatchingOptions | false;
  /** A request's deadline from arrival, in ms (default 10,000); the `x-request-timeout-ms` header may shorten it. */
  timeoutMs?: number;
  /** Request limits. */
  limits?: LimitOptions;
  /** Poll sources for changes (registry stages that move, directories re-saved): default every 2,000 ms; `false` never. */
  watch?: boolean | { intervalMs?: number };
  /** Structured logs (default: none). */
  logger?: ServeLogger;
  /** Cross-origin requests (default `false`). */
  cors?: CorsSetting;
  /** Serve the try-it page at `/` and the API docs at `/docs` (default true). */
  ui?: boolean;
  /** Where registry versions are checked out (default a fresh directory under the OS temp dir, removed by `stop()`). */
  cacheDir?: string;
  /** Backend of the inference workers (default `'wasm'`). */
  backend?: 'wasm' | 'cpu';
}

/** @internal A source after validation. */
export type NormalizedSource =
  | { kind: 'dir'; dir: string; label: string | undefined }
  | { kind: 'registry'; registry: string; ref: string; label: string | undefined };

/** @internal */
export interface NormalizedModel {
  name: string;
  sources: NormalizedSource[];
}

/** @internal Options with every default filled in. */
export interface NormalizedOptions {
  models: NormalizedModel[];
  host: string;
  port: number;
  workers: number;
  batching: { maxBatchSize: number; maxDelayMs: number; maxQueue: number } | false;
  timeoutMs: number;
  limits: { bodyBytes: number; instances: number; imagePixels: number };
  watchIntervalMs: number | false;
  logger: ServeLogger;
  cors: CorsSetting;
  ui: boolean;
  cacheDir: string | undefined;
  backend: 'wasm' | 'cpu';
}

/** Defaults, measured on a 2-core machine (see README "Figures"). @internal */
export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  workers: 1,
  maxBatchSize: 64,
  maxDelayMs: 0,
  maxQueue: 1024,
  timeoutMs: 10_000,
  bodyBytes: 8 * 1024 * 1024,
  instances: 256,
  imagePixels: 4096 * 4096,
  watchIntervalMs: 2_000,
} as const;

/** checkOptions throws ServeError `INVALID_OPTION`. */
const OptionError = ServeError;

function bad(path: string, message: string, actual: unknown): ServeError {
  return new ServeError('INVALID_OPTION', `createServer: ${path}: ${message}`, {
    data: { path, actual },
  });
}

function int(value: unknown, path: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw bad(path, `expected an integer in [${min}, ${max}], got ${JSON.stringify(value)}`, value);
  return value;
}

function str(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw bad(path, `expected a non-empty string, got ${JSON.stringify(value)}`, value);
  return value;
}

function label(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (!isValidName(value))
    throw bad(path, `expected a label in the name grammar (${NAME_GRAMMAR})`, value);
  return value;
}

function source(value: unknown, path: string): NormalizedSource {
  if (typeof value === 'string') return { kind: 'dir', dir: str(value, path), label: undefined };
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(path, 'expected a directory path, { dir } or { registry, ref }', value);
  const o = value as Record<string, unknown>;
  if ('registry' in o) {
    checkOptions(o, ['registry', 'ref', 'label'], `createServer: ${path}`, OptionError);
    return {
      kind: 'registry',
      registry: str(o['registry'], `${path}.registry`),
      ref: str(o['ref'], `${path}.ref`),
      label: label(o['label'], `${path}.label`),
    };
  }
  checkOptions(o, ['dir', 'label'], `createServer: ${path}`, OptionError);
  return {
    kind: 'dir',
    dir: str(o['dir'], `${path}.dir`),
    label: label(o['label'], `${path}.label`),
  };
}

/** @internal Validates {@link ServeOptions} and fills in defaults. */
export function normalizeOptions(options: ServeOptions): NormalizedOptions {
  checkOptions(
    options,
    [
      'models',
      'host',
      'port',
      'workers',
      'batching',
      'timeoutMs',
      'limits',
      'watch',
      'logger',
      'cors',
      'ui',
      'cacheDir',
      'backend',
    ],
    'createServer options',
    OptionError,
  );
  if (options === undefined || options === null)
    throw bad('options', 'expected an options object', options);
  if (!Array.isArray(options.models) || options.models.length === 0)
    throw bad('models', 'expected a non-empty list of { name, source }', options.models);
  const seen = new Set<string>();
  const models = options.models.map((m: unknown, i): NormalizedModel => {
    const path = `models[${i}]`;
    if (typeof m !== 'object' || m === null) throw bad(path, 'expected { name, source }', m);
    checkOptions(m, ['name', 'source'], `createServer: ${path}`, OptionError);
    const { name, source: src } = m as ModelConfig;
    if (!isValidName(name))
      throw new ServeError(
        'INVALID_NAME',
        `createServer: ${path}.name: invalid model name ${JSON.stringify(name)}: expected ${NAME_GRAMMAR}`,
        {
          data: { path: `${path}.name`, actual: name },
        },
      );
    if (seen.has(name))
      throw bad(
        `${path}.name`,
        `model ${JSON.stringify(name)} is listed twice (give one entry several sources instead)`,
        name,
      );
    seen.add(name);
    const list = Array.isArray(src) ? src : [src];
    if (list.length === 0) throw bad(`${path}.source`, 'expected at least one source', src);
    const sources = list.map((s, j) =>
      source(s, Array.isArray(src) ? `${path}.source[${j}]` : `${path}.source`),
    );
    const dirs = sources.filter((s) => s.kind === 'dir').length;
    if (dirs > 1 || (dirs === 1 && sources.length > 1))
      throw bad(
        `${path}.source`,
        'a model is served from one directory, or from registry references (one registry); not a mix',
        src,
      );
    const registries = new Set(sources.flatMap((s) => (s.kind === 'registry' ? [s.registry] : [])));
    if (registries.size > 1)
      throw bad(
        `${path}.source`,
        'all registry references of one model must name the same registry',
        src,
      );
    const labels = new Set<string>();
    for (const s of sources) {
      if (s.label === undefined) continue;
      if (labels.has(s.label))
        throw bad(`${path}.source`, `label ${JSON.stringify(s.label)} is given twice`, s.label);
      labels.add(s.label);
    }
    return { name, sources };
  });
  const batching =
    options.batching === false
      ? false
      : (() => {
          const b = options.batching ?? {};
          checkOptions(
            b,
            ['maxBatchSize', 'maxDelayMs', 'maxQueue'],
            'createServer: batching',
            OptionError,
          );
          const maxBatchSize = int(
            b.maxBatchSize,
            'batching.maxBatchSize',
            1,
            4096,
            DEFAULTS.maxBatchSize,
          );
          return {
            maxBatchSize,
            maxDelayMs: int(b.maxDelayMs, 'batching.maxDelayMs', 0, 10_000, DEFAULTS.maxDelayMs),
            maxQueue: int(
              b.maxQueue,
              'batching.maxQueue',
              1,
              1_000_000,
              Math.max(DEFAULTS.maxQueue, maxBatchSize),
            ),
          };
        })();
  const limits = options.limits ?? {};
  checkOptions(
    limits,
    ['bodyBytes', 'instances', 'imagePixels'],
    'createServer: limits',
    OptionError,
  );
  const watch = options.watch ?? true;
  let watchIntervalMs: number | false;
  if (watch === false) watchIntervalMs = false;
  else if (watch === true) watchIntervalMs = DEFAULTS.watchIntervalMs;
  else {
    checkOptions(watch, ['intervalMs'], 'createServer: watch', OptionError);
    watchIntervalMs = int(
      watch.intervalMs,
      'watch.intervalMs',
      10,
      3_600_000,
      DEFAULTS.watchIntervalMs,
    );
  }
  const cors = options.cors ?? false;
  if (!(
    typeof cors === 'boolean' ||
    typeof cors === 'string' ||
    (Array.isArray(cors) && cors.every((c) => typeof c === 'string'))
  ))
    throw bad('cors', 'expected a boolean, an origin or a list of origins', cors);
  const logger = options.logger ?? silentLogger();
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof (logger as unknown as Record<string, unknown>)[level] !== 'function')
      throw bad(
        'logger',
        `expected an object with debug, info, warn and error functions (missing ${level})`,
        undefined,
      );
  }
  const backend = options.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu')
    throw bad('backend', "expected 'wasm' or 'cpu'", backend);
  if (options.host !== undefined) str(options.host, 'host');
  if (options.cacheDir !== undefined) str(options.cacheDir, 'cacheDir');
  if (options.ui !== undefined && typeof options.ui !== 'boolean')
    throw bad('ui', 'expected a boolean', options.ui);
  return {
    models,
    host: options.host ?? DEFAULTS.host,
    port: int(options.port, 'port', 0, 65535, DEFAULTS.port),
    workers: int(options.workers, 'workers', 0, 64, DEFAULTS.workers),
    batching,
    timeoutMs: int(options.timeoutMs, 'timeoutMs', 1, 3_600_000, DEFAULTS.timeoutMs),
    limits: {
      bodyBytes: int(limits.bodyBytes, 'limits.bodyBytes', 1024, 1 << 30, DEFAULTS.bodyBytes),
      instances: int(limits.instances, 'limits.instances', 1, 1_000_000, DEFAULTS.instances),
      imagePixels: int(limits.imagePixels, 'limits.imagePixels', 1, 1 << 28, DEFAULTS.imagePixels),
    },
    watchIntervalMs,
    logger,
    cors,
    ui: options.ui ?? true,
    cacheDir: options.cacheDir,
    backend,
  };
}
