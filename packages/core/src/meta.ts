import { CoreError } from './errors';
import { NAME_GRAMMAR, isValidName } from './names';
import { isSafeRelativePath } from './paths';

/**
 * The `format` value of every `mlship.json`.
 *
 * @example
 * ```ts
 * if (json.format !== MODEL_META_FORMAT) throw new Error('not an mlship model directory');
 * ```
 */
export const MODEL_META_FORMAT = 'mlship-model/1';

/**
 * The file name of the metadata inside a model directory.
 *
 * @example
 * ```ts
 * const text = await readFile(`${dir}/${MODEL_META_FILE}`, 'utf8');
 * ```
 */
export const MODEL_META_FILE = 'mlship.json';

/**
 * The file name of the tfjs topology + weights manifest inside a model directory.
 *
 * @example
 * ```ts
 * const json = JSON.parse(await readFile(`${dir}/${MODEL_JSON_FILE}`, 'utf8'));
 * ```
 */
export const MODEL_JSON_FILE = 'model.json';

/** What a model takes: `mlship.json` `input`. Model input = raw pixel (0..255) * scale + offset. */
export interface InputSpec {
  /** `[height, width, channels]` of one image. */
  shape: [number, number, number];
  /** Always `'float32'` (the tensor dtype the model takes). */
  dtype: 'float32';
  /** Multiplier applied to raw 0..255 pixels (default in builders: `1 / 255`). */
  scale: number;
  /** Added after scaling (default in builders: `0`). */
  offset: number;
}

/** One epoch of training, as `mlship.json` `history` stores it. */
export interface EpochStats {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Training accuracy over the epoch. */
  accuracy: number;
  /** Validation loss, when there is validation data. */
  valLoss?: number;
  /** Validation accuracy, when there is validation data. */
  valAccuracy?: number;
  /** Learning rate used in this epoch. */
  learningRate: number;
  /** Wall time of the epoch's training steps (validation excluded), in seconds. */
  seconds: number;
  /** Training images per second over the epoch's steps. */
  imagesPerSec: number;
}

/** A dataset as recorded in `mlship.json` `datasets`. */
export interface DatasetRef {
  /** `sha256:<hex>` from @mlship/data `fingerprint`. */
  fingerprint: string;
  /** Number of images. */
  count: number;
}

/** The parent of a model: a registry version or any string reference. */
export type ParentRef = { name: string; version: number; ref: string } | string | null;

/** Size and hash of one file of the model directory. */
export interface FileEntry {
  /** sha256 of the content, lowercase hex. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
}

/**
 * The content of `mlship.json` (format `mlship-model/1`, see docs/contracts.md). Unknown keys are
 * kept. `Spec` is the type of `spec` (@mlship/model narrows it to its `ModelSpec`).
 */
export interface ModelMeta<Spec = Record<string, unknown>> {
  /** Always {@link MODEL_META_FORMAT}. */
  format: 'mlship-model/1';
  /** Model name, in the grammar of {@link isValidName}. */
  name: string;
  /** Class names, index = model output index. */
  labels: string[];
  /** Input shape and scaling (model input = raw pixel * scale + offset). */
  input: InputSpec;
  /** The spec that built the model, or null when it was not built from one. */
  spec: Spec | null;
  /** Training parameters (optimizer, learningRate, epochs, batchSize, seed, backend, ...). */
  training: Record<string, unknown>;
  /** Per-epoch training history. */
  history: EpochStats[];
  /** Flat metric name -> number, measured on the dataset named by `metricsDataset`. */
  metrics: Record<string, number>;
  /** The role (key of `datasets`) the metrics were measured on, if known. */
  metricsDataset?: string;
  /** Dataset role (`train`, `validation`, `test`, ...) -> fingerprint and count. */
  datasets: Record<string, DatasetRef>;
  /** The model this one was derived from. */
  parent: ParentRef;
  /**
   * How this model was derived from its parent: a strategy name (`scratch`, `fine-tune`,
   * `freeze`, ...) or, from @mlship/transfer, the strategy object with its options; null when
   * trained from nothing.
   */
  strategy: string | Record<string, unknown> | null;
  /** ISO-8601 creation time. */
  created: string;
  /** Every other file of the directory: relative posix path -> sha256 and size. */
  files: Record<string, FileEntry>;
  /** Unknown keys are preserved. */
  [key: string]: unknown;
}

const HEX64 = /^[0-9a-f]{64}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(field: string, expected: string, got: unknown, file: string): never {
  // JSON.stringify gives undefined for functions and symbols: name their type instead.
  const shown = got === undefined ? 'undefined' : (JSON.stringify(got)?.slice(0, 80) ?? typeof got);
  throw new CoreError('INVALID_META', `${file}: ${field}: expected ${expected}, got ${shown}`, {
    data: { path: file, field, expected },
  });
}

/**
 * Checks parsed `mlship.json` content against format `mlship-model/1`: the format, a valid name
 * (the registry's grammar), at least two string labels, the input spec, a `files` map of safe
 * relative paths (never `mlship.json` itself) with sha256 and byte counts that lists `model.json`,
 * `created`, `training` / `metrics` (finite numbers) / `datasets` (fingerprint + count) objects,
 * the `history` array, and the `parent` and `strategy` shapes.
 *
 * @param value - the parsed JSON
 * @param file - the file path for messages (default `mlship.json`)
 * @returns the value typed as {@link ModelMeta}
 * @throws {@link CoreError} `INVALID_META` naming the field (`data.field`) and what was expected
 * @example
 * ```ts
 * const meta = validateModelMeta(JSON.parse(await readFile('models/cnn/mlship.json', 'utf8')));
 * ```
 */
export function validateModelMeta(value: unknown, file: string = MODEL_META_FILE): ModelMeta {
  if (!isObject(value)) bad('(root)', 'a JSON object', value, file);
  const m = value;
  if (m['format'] !== MODEL_META_FORMAT) bad('format', `"${MODEL_META_FORMAT}"`, m['format'], file);
  if (!isValidName(m['name'])) bad('name', `a name: ${NAME_GRAMMAR}`, m['name'], file);
  const labels = m['labels'];
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string'))
    bad('labels', 'an array of at least 2 class names', labels, file);
  const input = m['input'];
  if (
    !isObject(input) ||
    !Array.isArray(input['shape']) ||
    input['shape'].length !== 3 ||
    !input['shape'].every((d) => Number.isInteger(d) && (d as number) > 0) ||
    input['dtype'] !== 'float32' ||
    typeof input['scale'] !== 'number' ||
    !Number.isFinite(input['scale']) ||
    typeof input['offset'] !== 'number' ||
    !Number.isFinite(input['offset'])
  ) {
    bad(
      'input',
      '{shape: [h, w, c] (positive integers), dtype: "float32", scale: number, offset: number}',
      input,
      file,
    );
  }
  const files = m['files'];
  if (!isObject(files)) bad('files', 'an object path -> {sha256, bytes}', files, file);
  for (const [p, entry] of Object.entries(files)) {
    const where = `files[${JSON.stringify(p)}]`;
    if (!isSafeRelativePath(p) || p === MODEL_META_FILE)
      bad(
        where,
        `a relative posix path inside the model directory, other than ${MODEL_META_FILE}`,
        p,
        file,
      );
    if (
      !isObject(entry) ||
      typeof entry['sha256'] !== 'string' ||
      !HEX64.test(entry['sha256']) ||
      !Number.isSafeInteger(entry['bytes']) ||
      (entry['bytes'] as number) < 0
    ) {
      bad(where, '{sha256: 64 lowercase hex chars, bytes: non-negative integer}', entry, file);
    }
  }
  if (!(MODEL_JSON_FILE in files))
    bad('files', `an entry for "${MODEL_JSON_FILE}"`, Object.keys(files), file);
  if (typeof m['created'] !== 'string' || Number.isNaN(Date.parse(m['created'])))
    bad('created', 'an ISO-8601 date string', m['created'], file);
  for (const key of ['training', 'metrics', 'datasets'] as const) {
    if (!isObject(m[key])) bad(key, 'an object', m[key], file);
  }
  for (const [k, v] of Object.entries(m['metrics'] as Record<string, unknown>)) {
    if (typeof v !== 'number' || !Number.isFinite(v))
      bad(`metrics.${k}`, 'a finite number', v, file);
  }
  for (const [k, v] of Object.entries(m['datasets'] as Record<string, unknown>)) {
    if (
      !isObject(v) ||
      typeof v['fingerprint'] !== 'string' ||
      v['fingerprint'] === '' ||
      (v['count'] !== undefined &&
        (!Number.isSafeInteger(v['count']) || (v['count'] as number) < 0))
    )
      bad(
        `datasets.${k}`,
        '{fingerprint: string (sha256:<hex>), count: non-negative integer}',
        v,
        file,
      );
  }
  if (m['metricsDataset'] !== undefined && typeof m['metricsDataset'] !== 'string')
    bad('metricsDataset', 'a dataset role (string)', m['metricsDataset'], file);
  if (!Array.isArray(m['history'])) bad('history', 'an array', m['history'], file);
  const parent = m['parent'];
  if (
    parent !== null &&
    parent !== undefined &&
    typeof parent !== 'string' &&
    !(
      isObject(parent) &&
      typeof parent['name'] === 'string' &&
      Number.isSafeInteger(parent['version']) &&
      typeof parent['ref'] === 'string'
    )
  ) {
    bad('parent', 'null, a string ref, or {name, version, ref}', parent, file);
  }
  const strategy = m['strategy'];
  if (
    strategy !== null &&
    strategy !== undefined &&
    typeof strategy !== 'string' &&
    !isObject(strategy)
  )
    bad('strategy', 'null, a strategy name, or a strategy object', strategy, file);
  return value as ModelMeta;
}

/**
 * The weight file paths a tfjs `model.json` references (every `weightsManifest[].paths[]`), in
 * manifest order.
 *
 * @param modelJson - the parsed or raw model.json
 * @param file - the file path for messages (default `model.json`)
 * @returns the relative paths
 * @throws {@link CoreError} `INTEGRITY` (reason `unreadable`) when it is not JSON with a
 *   `weightsManifest` array of groups with string paths
 * @example
 * ```ts
 * weightPathsOf(await readFile('models/cnn/model.json', 'utf8')); // ['features_conv1.weights.bin', ...]
 * ```
 */
export function weightPathsOf(
  modelJson: string | Uint8Array | Record<string, unknown>,
  file: string = MODEL_JSON_FILE,
): string[] {
  let json: unknown = modelJson;
  if (typeof modelJson === 'string' || modelJson instanceof Uint8Array) {
    try {
      json = JSON.parse(
        typeof modelJson === 'string' ? modelJson : new TextDecoder().decode(modelJson),
      );
    } catch (e) {
      throw new CoreError('INTEGRITY', `${file}: expected model JSON, got a parse error`, {
        cause: e,
        data: { path: file, reason: 'unreadable' },
      });
    }
  }
  const manifest = isObject(json) ? json['weightsManifest'] : undefined;
  if (!Array.isArray(manifest)) {
    throw new CoreError('INTEGRITY', `${file}: expected a weightsManifest array`, {
      data: { path: file, reason: 'unreadable' },
    });
  }
  const out: string[] = [];
  for (const group of manifest) {
    const paths = isObject(group) ? group['paths'] : undefined;
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) {
      throw new CoreError(
        'INTEGRITY',
        `${file}: expected every weightsManifest group to have string paths`,
        {
          data: { path: file, reason: 'unreadable' },
        },
      );
    }
    out.push(...paths);
  }
  return out;
}
