import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ImageDataset } from '@mlship/data';
import { fingerprint } from '@mlship/data';
import { isTfError, loadLayersModel, saveLayersModel, tf } from '@mlship/tf';
import type { WrittenFile } from '@mlship/tf';
import { ModelError } from './errors';
import { inputSpecOf, rememberInputSpec } from './internal/data';
import type { DatasetRef, EpochStats, FileEntry, ModelMeta, ParentRef } from './meta';
import { MODEL_META_FILE, MODEL_META_FORMAT, validateModelMeta } from './meta';
import type { InputSpec, ModelSpec } from './spec';

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

const NAME_RE = /^[a-z0-9][a-z0-9._-]*$/;
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
  const name = input.name ?? input.spec?.name ?? (NAME_RE.test(model.name) ? model.name : 'model');
  if (!NAME_RE.test(name))
    throw option(
      `meta.name: expected a name matching [a-z0-9][a-z0-9._-]*, got ${JSON.stringify(name)}`,
      'meta.name',
    );
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
      `saving model directory ${path.resolve(dir)} failed: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
        data: { path: path.resolve(dir) },
      },
    );
  }
}

/**
 * Reads and checks `mlship.json` of a model directory, without loading weights or touching tf.
 *
 * @param dir - the model directory
 * @returns the metadata
 * @throws {@link ModelError} `NOT_A_MODEL_DIR` when `dir` or its `mlship.json` is missing, `INVALID_META` when it is not valid `mlship-model/1` JSON
 * @example
 * ```ts
 * const { labels, metrics } = await readModelMeta('./models/cnn-v1');
 * ```
 */
export async function readModelMeta(dir: string): Promise<ModelMeta> {
  const root = path.resolve(dir);
  const file = path.join(root, MODEL_META_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const exists = await fs.stat(root).then(
      (s) => s.isDirectory(),
      () => false,
    );
    throw new ModelError(
      'NOT_A_MODEL_DIR',
      exists
        ? `${root} is not an mlship model directory: ${MODEL_META_FILE} is missing`
        : `${root} is not an mlship model directory: it does not exist`,
      { cause: e, data: { path: exists ? file : root } },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelError(
      'INVALID_META',
      `${file}: expected JSON, got a parse error (${e instanceof Error ? e.message : String(e)})`,
      {
        cause: e,
        data: { path: file },
      },
    );
  }
  return validateModelMeta(json, file);
}

/** Every file under `root`, as relative posix paths. */
async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(path.join(root, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listFiles(root, rel)));
    else out.push(rel);
  }
  return out;
}

/**
 * Checks every file listed in `mlship.json` against its sha256 and size, that no other file is in
 * the directory, and that model.json's weight files are all listed.
 *
 * @param dir - the model directory
 * @returns the metadata
 * @throws {@link ModelError} `NOT_A_MODEL_DIR`, `INVALID_META`, or `INTEGRITY` naming the file (missing, wrong size, wrong sha256, not listed)
 * @example
 * ```ts
 * await verifyModelDir('./models/cnn-v1'); // throws if any byte changed
 * ```
 */
export async function verifyModelDir(dir: string): Promise<ModelMeta> {
  return (await readVerified(dir)).meta;
}

/** Reads and verifies every file; returns the metadata and the verified bytes by relative path. */
async function readVerified(dir: string): Promise<{ meta: ModelMeta; bytes: Map<string, Buffer> }> {
  const root = path.resolve(dir);
  const meta = await readModelMeta(root);
  const verified = new Map<string, Buffer>();
  for (const rel of await listFiles(root)) {
    if (rel !== MODEL_META_FILE && !(rel in meta.files)) {
      throw new ModelError(
        'INTEGRITY',
        `${path.join(root, rel)}: not listed in ${MODEL_META_FILE} files (every file of a model directory must be)`,
        {
          data: { path: rel },
        },
      );
    }
  }
  for (const [rel, entry] of Object.entries(meta.files)) {
    const file = path.join(root, ...rel.split('/'));
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch (e) {
      throw new ModelError(
        'INTEGRITY',
        `${file}: listed in ${MODEL_META_FILE} (${entry.bytes} bytes) but missing`,
        { cause: e, data: { path: rel } },
      );
    }
    if (bytes.byteLength !== entry.bytes) {
      throw new ModelError(
        'INTEGRITY',
        `${file}: expected ${entry.bytes} bytes (per ${MODEL_META_FILE}), got ${bytes.byteLength}${bytes.byteLength < entry.bytes ? ' (truncated)' : ''}`,
        {
          data: { path: rel, expected: entry.bytes, actual: bytes.byteLength },
        },
      );
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== entry.sha256) {
      throw new ModelError(
        'INTEGRITY',
        `${file}: expected sha256 ${entry.sha256} (per ${MODEL_META_FILE}), got ${sha}: the file was modified`,
        {
          data: { path: rel, expected: entry.sha256, actual: sha },
        },
      );
    }
    if (rel === 'model.json') {
      let manifest: unknown;
      try {
        manifest = (JSON.parse(bytes.toString('utf8')) as { weightsManifest?: unknown })
          .weightsManifest;
      } catch (e) {
        throw new ModelError('INTEGRITY', `${file}: expected model JSON, got a parse error`, {
          cause: e,
          data: { path: rel },
        });
      }
      if (!Array.isArray(manifest))
        throw new ModelError('INTEGRITY', `${file}: expected a weightsManifest array`, {
          data: { path: rel },
        });
      for (const group of manifest as { paths?: unknown }[]) {
        for (const p of Array.isArray(group.paths) ? group.paths : []) {
          if (typeof p !== 'string' || !(p in meta.files)) {
            throw new ModelError(
              'INTEGRITY',
              `${file}: weight file ${JSON.stringify(p)} is not listed in ${MODEL_META_FILE} files, so it cannot be verified`,
              {
                data: { path: typeof p === 'string' ? p : rel },
              },
            );
          }
        }
      }
    }
    verified.set(rel, bytes);
  }
  return { meta, bytes: verified };
}

/**
 * Loads an mlship model directory after verifying every file's sha256 and size against `mlship.json`.
 *
 * @param dir - the model directory
 * @returns the model and its metadata (train/evaluate/predict then use `meta.input` scaling for the model by default)
 * @throws {@link ModelError} `NOT_A_MODEL_DIR`, `INVALID_META`, `INTEGRITY` (tampered, truncated or missing file, named in `data.path`), `LOAD_FAILED` (TensorFlow.js rejected the verified files)
 * @example
 * ```ts
 * await initRuntime();
 * const { model, meta } = await loadModelDir('./models/cnn-v1');
 * ```
 */
export async function loadModelDir(
  dir: string,
): Promise<{ model: tf.LayersModel; meta: ModelMeta }> {
  const { meta, bytes } = await readVerified(dir);
  try {
    // Build the model from exactly the bytes that were verified (no second read a swap could slip into).
    const json = JSON.parse(bytes.get('model.json')!.toString('utf8')) as tf.io.ModelJSON;
    const weightSpecs: tf.io.WeightsManifestEntry[] = [];
    const chunks: Buffer[] = [];
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
    return { model, meta };
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
    throw new ModelError(
      'LOAD_FAILED',
      `loading ${where} failed: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e, data: { path: where } },
    );
  }
}
