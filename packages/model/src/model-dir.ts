import path from 'node:path';
import {
  MODEL_JSON_FILE,
  MODEL_META_FILE,
  MODEL_META_FORMAT,
  NAME_GRAMMAR,
  isValidName,
  readModelFiles,
  readModelMeta as readCoreMeta,
  validateModelMeta as validateCoreMeta,
  verifyModelFiles,
  describeError,
} from '@mlship/core';
import type { DatasetRef, EpochStats, FileEntry, InputSpec, ParentRef } from '@mlship/core';
import type { ImageDataset } from '@mlship/data';
import { fingerprint } from '@mlship/data';
import { isTfError, loadLayersModel, saveLayersModel, tf } from '@mlship/tf';
import type { WrittenFile } from '@mlship/tf';
import { ModelError, asModelError } from './errors';
import { inputSpecOf, rememberInputSpec } from './internal/data';
import { checkOptionKeys, keysOf } from './internal/options';
import { ensureRuntime } from './internal/runtime';
import type { ModelMeta } from './meta';
import { asModelMeta } from './meta';
import type { ModelSpec } from './spec';

/** What the caller knows about a model when saving it; {@link saveModelDir} fills in `format`, `files`, `created` and defaults. */
export interface ModelMetaInput {
  /** Model name (default: the spec's name, else the tf model's name if valid, else `'model'`). */
  name?: string;
  /** Class names, one per model output (required). */
  labels: readonly string[];
  /** Input spec (default: the spec's `input`, else the model's input shape with scale 1/255). */
  input?: InputSpec;
  /** The spec that built the model (default null). */
  spec?: ModelSpec | null;
  /** Training parameters (default `{}`); {@link TrainResult} `params` fits here. */
  training?: Record<string, unknown>;
  /** Per-epoch history (default `[]`). */
  history?: readonly EpochStats[];
  /** Flat metrics (default `{}`). */
  metrics?: Record<string, number>;
  /** Which `datasets` role the metrics were measured on. */
  metricsDataset?: string;
  /** Dataset role -> fingerprint and count, or the dataset itself (fingerprinted with @mlship/data `fingerprint`) (default `{}`). */
  datasets?: Record<string, DatasetRef | ImageDataset>;
  /** Parent model (default null). */
  parent?: ParentRef;
  /** Transfer strategy: a name, or the strategy object with its options (JSON) (default null). */
  strategy?: string | Record<string, unknown> | null;
  /** Creation time (default: `options.now()`). */
  created?: string;
  /** Any further keys to store (kept by readers that rewrite the file). */
  extra?: Record<string, unknown>;
}

/** Options of {@link saveModelDir}. */
export interface SaveModelDirOptions {
  /** Replace an existing directory, atomically (default false). */
  overwrite?: boolean;
  /** Clock for `created` (default `() => new Date()`). */
  now?: () => Date;
}

/** What {@link saveModelDir} wrote. */
export interface SavedModelDir {
  /** Absolute path of the model directory. */
  dir: string;
  /** The metadata written to `mlship.json`. */
  meta: ModelMeta;
  /** Every file written (including `mlship.json`). */
  files: WrittenFile[];
}

const META_INPUT_KEYS = keysOf<ModelMetaInput>({
  name: true,
  labels: true,
  input: true,
  spec: true,
  training: true,
  history: true,
  metrics: true,
  metricsDataset: true,
  datasets: true,
  parent: true,
  strategy: true,
  created: true,
  extra: true,
});

const KNOWN_KEYS = new Set([
  'format',
  'name',
  'labels',
  'input',
  'spec',
  'training',
  'history',
  'metrics',
  'metricsDataset',
  'datasets',
  'parent',
  'strategy',
  'created',
  'files',
]);

function option(message: string, field: string): ModelError {
  return new ModelError('INVALID_OPTION', message, { data: { path: field } });
}

/**
 * Dataset refs for `mlship.json`: datasets are fingerprinted, refs are copied.
 *
 * @internal
 */
export function datasetRefs(
  datasets: Record<string, DatasetRef | ImageDataset>,
): Record<string, DatasetRef> {
  const out: Record<string, DatasetRef> = {};
  for (const [role, value] of Object.entries(datasets)) {
    if ('images' in value) out[role] = { fingerprint: fingerprint(value), count: value.shape[0] };
    else {
      if (typeof value.fingerprint !== 'string' || !Number.isInteger(value.count)) {
        throw option(
          `meta.datasets.${role}: expected {fingerprint: string, count: integer} or an ImageDataset, got ${JSON.stringify(value)?.slice(0, 80)}`,
          `meta.datasets.${role}`,
        );
      }
      out[role] = { fingerprint: value.fingerprint, count: value.count };
    }
  }
  return out;
}

/**
 * Runs the reader's check (@mlship/core's `validateModelMeta`) on metadata about to be written, so
 * saveModelDir never writes an `mlship.json` that readModelMeta, loadModelDir or the registry would
 * refuse (a non-finite metric, an unparseable `created`, ...). Before the files exist their map is
 * stood in for.
 */
function checkWritable(meta: ModelMeta): void {
  const probe =
    MODEL_JSON_FILE in meta.files
      ? meta
      : {
          ...meta,
          files: { ...meta.files, [MODEL_JSON_FILE]: { sha256: '0'.repeat(64), bytes: 0 } },
        };
  try {
    validateCoreMeta(probe, 'meta');
  } catch (e) {
    const error = asModelError(e, { code: 'INVALID_OPTION', message: 'meta' });
    const field = typeof error.data?.['field'] === 'string' ? error.data['field'] : '';
    // Core names the field of the file (`meta: metrics.acc: expected ...`); here it is an option.
    throw option(`meta.${error.message.replace(/^meta: /, '')}`, `meta.${field}`);
  }
}

/**
 * Builds the `mlship.json` content for a model from what the caller knows and the files written.
 *
 * @internal Exposed for tests and for {@link saveModelDir}.
 */
export function buildMeta(
  model: tf.LayersModel,
  input: ModelMetaInput,
  files: readonly WrittenFile[],
  now: () => Date,
): ModelMeta {
  const outShape = model.outputs[0]?.shape ?? [];
  const classes = outShape[outShape.length - 1];
  if (
    !Array.isArray(input.labels) ||
    input.labels.length !== classes ||
    !input.labels.every((l) => typeof l === 'string')
  ) {
    throw option(
      `meta.labels: expected ${String(classes)} class names (the model's outputs), got ${JSON.stringify(input.labels)?.slice(0, 80)}`,
      'meta.labels',
    );
  }
  const name = input.name ?? input.spec?.name ?? (isValidName(model.name) ? model.name : 'model');
  if (!isValidName(name))
    throw new ModelError(
      'INVALID_NAME',
      `meta.name: expected a name matching the model-name grammar (${NAME_GRAMMAR}), got ${JSON.stringify(name)}`,
      { data: { path: 'meta.name', expected: NAME_GRAMMAR, actual: name } },
    );
  for (const [key, value] of Object.entries(input.metrics ?? {})) {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw option(
        `meta.metrics.${key}: expected a finite number, got ${String(value)}`,
        `meta.metrics.${key}`,
      );
  }
  const inputSpec = input.input ?? input.spec?.input ?? inputSpecOf(model);
  const fileMap: Record<string, FileEntry> = {};
  for (const f of files)
    if (f.path !== MODEL_META_FILE) fileMap[f.path] = { sha256: f.sha256, bytes: f.bytes };
  const meta: ModelMeta = {
    ...(input.extra ?? {}),
    format: MODEL_META_FORMAT,
    name,
    labels: [...input.labels],
    input: {
      shape: [...inputSpec.shape],
      dtype: 'float32',
      scale: inputSpec.scale,
      offset: inputSpec.offset,
    },
    spec: input.spec ?? null,
    training: input.training ?? {},
    history: [...(input.history ?? [])],
    metrics: input.metrics ?? {},
    datasets: datasetRefs(input.datasets ?? {}),
    parent: input.parent ?? null,
    strategy: input.strategy ?? null,
    created: input.created ?? now().toISOString(),
    files: fileMap,
  };
  if (input.metricsDataset !== undefined) meta.metricsDataset = input.metricsDataset;
  for (const key of Object.keys(input.extra ?? {})) {
    if (KNOWN_KEYS.has(key))
      throw option(
        `meta.extra.${key}: expected a key not defined by ${MODEL_META_FORMAT}, got ${JSON.stringify(key)}`,
        `meta.extra.${key}`,
      );
  }
  checkWritable(meta);
  return meta;
}

/**
 * Saves a model as an mlship model directory: `model.json`, one `<layer>.weights.bin` per layer with
 * weights, and `mlship.json` (format `mlship-model/1`, with the sha256 and size of every other file),
 * all in one atomic write (a crash leaves the old directory or the new one, never a mix).
 *
 * @param model - the model to save
 * @param dir - the directory to create (or replace, with `overwrite`)
 * @param meta - labels (required), spec, training params, history, metrics, datasets, parent, strategy, ...
 * @param options - `overwrite` (default false), `now` clock
 * @returns the directory, the metadata written and every file with its sha256
 * @throws {@link ModelError} `INVALID_OPTION` for bad metadata (e.g. label count != outputs), `SAVE_FAILED` when writing fails (e.g. `dir` exists without `overwrite`)
 * @example
 * ```ts
 * await saveModelDir(model, './models/cnn-v1', { labels: train.classNames, spec, training: result.params, history: result.history });
 * ```
 */
export async function saveModelDir(
  model: tf.LayersModel,
  dir: string,
  meta: ModelMetaInput,
  options: SaveModelDirOptions = {},
): Promise<SavedModelDir> {
  checkOptionKeys(meta, META_INPUT_KEYS, 'meta');
  checkOptionKeys(options, ['overwrite', 'now'], 'saveModelDir options');
  const now = options.now ?? (() => new Date());
  // Validate before touching the disk.
  buildMeta(model, meta, [], now);
  let written: ModelMeta | undefined;
  try {
    const saved = await saveLayersModel(model, dir, {
      overwrite: options.overwrite ?? false,
      extraFiles: (files) => {
        written = buildMeta(model, meta, files, now);
        return { [MODEL_META_FILE]: `${JSON.stringify(written, null, 2)}\n` };
      },
    });
    return { dir: saved.dir, meta: written!, files: saved.files };
  } catch (e) {
    if (e instanceof ModelError) throw e;
    throw new ModelError(
      'SAVE_FAILED',
      `saving model directory ${path.resolve(dir)} failed: ${describeError(e)}`,
      {
        cause: e,
        data: { path: path.resolve(dir) },
      },
    );
  }
}

/** Runs a core model-directory read, re-throwing what it throws as a {@link ModelError}. */
async function fromCore<T>(dir: string, read: (root: string) => Promise<T>): Promise<T> {
  const root = path.resolve(dir);
  try {
    return await read(root);
  } catch (e) {
    throw asModelError(e, { code: 'READ_FAILED', message: `reading model directory ${root}` });
  }
}

/**
 * Reads and checks `mlship.json` of a model directory, without loading weights or touching tf.
 *
 * @param dir - the model directory
 * @returns the metadata
 * @throws {@link ModelError} `NOT_A_MODEL_DIR` when `dir` or its `mlship.json` is missing, `INVALID_META` when it is not valid `mlship-model/1` JSON, `INTEGRITY` when `mlship.json` is a symlink or not a regular file, `READ_FAILED`
 * @example
 * ```ts
 * const { labels, metrics } = await readModelMeta('./models/cnn-v1');
 * ```
 */
export async function readModelMeta(dir: string): Promise<ModelMeta> {
  return asModelMeta(await fromCore(dir, (root) => readCoreMeta(root)));
}

/**
 * Checks every file listed in `mlship.json` against its sha256 and size, that no other file is in
 * the directory, that every entry is a regular file (no symlink, FIFO or device), and that
 * model.json's weight files are all listed. Files are hashed in chunks: memory stays flat.
 *
 * @param dir - the model directory
 * @returns the metadata
 * @throws {@link ModelError} `NOT_A_MODEL_DIR`, `INVALID_META`, or `INTEGRITY` naming the file (`data.path`) and why (`data.reason`: missing, size, sha256, unlisted, not-regular), `READ_FAILED`
 * @example
 * ```ts
 * await verifyModelDir('./models/cnn-v1'); // throws if any byte changed
 * ```
 */
export async function verifyModelDir(dir: string): Promise<ModelMeta> {
  return asModelMeta((await fromCore(dir, (root) => verifyModelFiles(root))).meta);
}

/**
 * Loads an mlship model directory after verifying every file's sha256 and size against `mlship.json`
 * (the checks of {@link verifyModelDir}), building the model from exactly the bytes it verified.
 *
 * @param dir - the model directory
 * @returns the model and its metadata (train/evaluate/predict then use `meta.input` scaling for the model by default)
 * @throws {@link ModelError} `NOT_A_MODEL_DIR`, `INVALID_META`, `INTEGRITY` (tampered, truncated, missing or unlisted file, named in `data.path`), `READ_FAILED`, `LOAD_FAILED` (TensorFlow.js rejected the verified files)
 * @example
 * ```ts
 * const { model, meta } = await loadModelDir('./models/cnn-v1');
 * ```
 */
export async function loadModelDir(
  dir: string,
): Promise<{ model: tf.LayersModel; meta: ModelMeta }> {
  const { meta, files } = await fromCore(dir, (root) => readModelFiles(root));
  await ensureRuntime('loadModelDir');
  const bytes = new Map(files.map((f) => [f.path, f.data]));
  try {
    // Build the model from exactly the bytes that were verified (no second read a swap could slip into).
    const json = JSON.parse(
      new TextDecoder().decode(bytes.get(MODEL_JSON_FILE)),
    ) as tf.io.ModelJSON;
    const weightSpecs: tf.io.WeightsManifestEntry[] = [];
    const chunks: Uint8Array[] = [];
    for (const group of json.weightsManifest) {
      weightSpecs.push(...group.weights);
      for (const p of group.paths) chunks.push(bytes.get(p)!);
    }
    const weightData = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const c of chunks) {
      weightData.set(c, at);
      at += c.byteLength;
    }
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: weightData.buffer,
      }),
      { strict: true },
    );
    rememberInputSpec(model, meta.input);
    return { model, meta: asModelMeta(meta) };
  } catch (first) {
    // @mlship/tf's loader explains what does not fit (which weight, which shapes).
    let e: unknown = first;
    try {
      (await loadLayersModel(dir)).dispose();
    } catch (diagnosed) {
      e = diagnosed;
    }
    const where =
      isTfError(e) && typeof e.data?.path === 'string' ? e.data.path : path.resolve(dir);
    throw new ModelError('LOAD_FAILED', `loading ${where} failed: ${describeError(e)}`, {
      cause: e,
      data: { path: where },
    });
  }
}
