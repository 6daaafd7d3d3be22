import { ModelError } from './errors';
import type { InputSpec, ModelSpec } from './spec';

/**
 * The `format` value of every `mlship.json` this package writes.
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
 * const meta = JSON.parse(await readFile(path.join(dir, MODEL_META_FILE), 'utf8'));
 * ```
 */
export const MODEL_META_FILE = 'mlship.json';

/** One epoch of training, as {@link train} reports it and `mlship.json` `history` stores it. */
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

/** The content of `mlship.json` (format `mlship-model/1`, see docs/contracts.md). Unknown keys are kept. */
export interface ModelMeta {
  /** Always {@link MODEL_META_FORMAT}. */
  format: 'mlship-model/1';
  /** Model name, `[a-z0-9][a-z0-9._-]*`. */
  name: string;
  /** Class names, index = model output index. */
  labels: string[];
  /** Input shape and scaling (model input = raw pixel * scale + offset). */
  input: InputSpec;
  /** The spec that built the model, or null when it was not built from one. */
  spec: ModelSpec | null;
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
   * How the model was derived from its parent: a strategy name (`scratch`, `fine-tune`, `freeze`,
   * ...) or, from @mlship/transfer, the strategy object with its options (JSON); null when trained
   * from nothing.
   */
  strategy: string | Record<string, unknown> | null;
  /** ISO-8601 creation time. */
  created: string;
  /** Every other file of the directory: relative posix path -> sha256 and size. */
  files: Record<string, FileEntry>;
  /** Unknown keys are preserved. */
  [key: string]: unknown;
}

const NAME_RE = /^[a-z0-9][a-z0-9._-]*$/;
const HEX64 = /^[0-9a-f]{64}$/;

function bad(path: string, expected: string, got: unknown, file: string): never {
  const shown = got === undefined ? 'undefined' : JSON.stringify(got)?.slice(0, 80);
  throw new ModelError('INVALID_META', `${file}: ${path}: expected ${expected}, got ${shown}`, {
    data: { path: file, field: path },
  });
}

/**
 * Checks parsed `mlship.json` content against format `mlship-model/1`.
 *
 * @param value - the parsed JSON
 * @param file - the file path for messages (default `mlship.json`)
 * @returns the value typed as {@link ModelMeta}
 * @throws {@link ModelError} `INVALID_META` naming the field and what was expected
 * @example
 * ```ts
 * const meta = validateModelMeta(JSON.parse(await readFile('models/cnn/mlship.json', 'utf8')));
 * ```
 */
export function validateModelMeta(value: unknown, file = MODEL_META_FILE): ModelMeta {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    bad('(root)', 'a JSON object', value, file);
  const m = value as Record<string, unknown>;
  if (m['format'] !== MODEL_META_FORMAT) bad('format', `"${MODEL_META_FORMAT}"`, m['format'], file);
  if (typeof m['name'] !== 'string' || !NAME_RE.test(m['name']))
    bad('name', 'a name matching [a-z0-9][a-z0-9._-]*', m['name'], file);
  const labels = m['labels'];
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string')) {
    bad('labels', 'an array of at least 2 class names', labels, file);
  }
  const input = m['input'] as Record<string, unknown> | undefined;
  if (
    typeof input !== 'object' ||
    input === null ||
    !Array.isArray(input['shape']) ||
    input['shape'].length !== 3 ||
    !input['shape'].every((d) => Number.isInteger(d) && (d as number) > 0) ||
    typeof input['scale'] !== 'number' ||
    typeof input['offset'] !== 'number'
  ) {
    bad(
      'input',
      '{shape: [h, w, c], dtype: "float32", scale: number, offset: number}',
      input,
      file,
    );
  }
  const files = m['files'] as Record<string, unknown> | undefined;
  if (typeof files !== 'object' || files === null || Array.isArray(files))
    bad('files', 'an object path -> {sha256, bytes}', files, file);
  for (const [p, entry] of Object.entries(files)) {
    const e = entry as Record<string, unknown> | null;
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e['sha256'] !== 'string' ||
      !HEX64.test(e['sha256']) ||
      !Number.isInteger(e['bytes'])
    ) {
      bad(`files[${JSON.stringify(p)}]`, '{sha256: 64 hex chars, bytes: integer}', entry, file);
    }
    if (
      p === '' ||
      p.startsWith('/') ||
      p.includes('\\') ||
      p.split('/').some((s) => s === '..' || s === '.' || s === '')
    ) {
      bad(
        `files[${JSON.stringify(p)}]`,
        'a relative posix path inside the model directory',
        p,
        file,
      );
    }
  }
  if (!('model.json' in files)) bad('files', 'an entry for "model.json"', Object.keys(files), file);
  if (typeof m['created'] !== 'string')
    bad('created', 'an ISO-8601 date string', m['created'], file);
  for (const key of ['training', 'metrics', 'datasets'] as const) {
    const v = m[key];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(key, 'an object', v, file);
  }
  if (!Array.isArray(m['history'])) bad('history', 'an array', m['history'], file);
  return value as ModelMeta;
}
