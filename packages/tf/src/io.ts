import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TfError, describeError } from './errors';

/** A file written by {@link saveLayersModel}. */
export interface WrittenFile {
  /** Path relative to the model directory, posix separators. */
  path: string;
  /** Size in bytes. */
  bytes: number;
  /** sha256 of the content, lowercase hex. */
  sha256: string;
}

/** What {@link saveLayersModel} wrote. */
export interface SavedModel {
  /** The model directory (absolute). */
  dir: string;
  /** Every file written: model.json, the weight files in layer order, then extra files by name. */
  files: WrittenFile[];
}

/** Extra files to add to a save: relative posix path -> content (a string is written as UTF-8). */
export type ExtraFiles = Record<string, string | Uint8Array>;

/** Options of {@link saveLayersModel}. */
export interface SaveModelOptions {
  /** Replace an existing directory (still atomically). Default false: an existing `dir` is an error. */
  overwrite?: boolean;
  /**
   * Adds files (e.g. `mlship.json`) to the same atomic write, computed from the files already
   * written (model.json and weights, with sizes and sha256). Paths are relative and posix; they may
   * not replace model.json or a weight file.
   */
  extraFiles?: (written: readonly WrittenFile[]) => ExtraFiles | Promise<ExtraFiles>;
}

/** Options of {@link loadLayersModel}. */
export interface LoadModelOptions {
  /** Require every weight of the manifest to match a weight of the topology and vice versa. Default true. */
  strict?: boolean;
}

interface ManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

const MODEL_JSON = 'model.json';
const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  int16: 2,
  float16: 2,
};
const activeTemps = new Set<string>();

/**
 * Saves a LayersModel to a directory in the standard TensorFlow.js format, without tfjs-node:
 * `model.json` (topology + weights manifest) and one `<layer-name>.weights.bin` per layer that has
 * weights, so unchanged layers stay byte-identical across versions. The same weights always give
 * the same bytes. The write is atomic: files go to a hidden temporary sibling directory, are
 * fsynced, and the directory is renamed onto `dir`; a crash leaves either the old model or the new
 * one at `dir`, never a half-written one. Stale temporary directories of earlier crashed saves of
 * the same `dir` are removed.
 *
 * @param model - the model to save (its optimizer state is not saved).
 * @param dir - the model directory to create (or replace, with `overwrite`).
 * @param options - `overwrite`, `extraFiles`.
 * @returns the directory and every file written, with sizes and sha256.
 * @throws TfError `SAVE_FAILED` when `dir` exists without `overwrite`, a weight cannot be encoded,
 *   the file system fails or `extraFiles` throws; `INVALID_OPTION` for a bad extra file path.
 * @example
 * ```ts
 * await saveLayersModel(model, './models/cnn', {
 *   overwrite: true,
 *   extraFiles: (files) => ({ 'mlship.json': JSON.stringify({ files }) }),
 * });
 * ```
 */
export async function saveLayersModel(
  model: tf.LayersModel,
  dir: string,
  options: SaveModelOptions = {},
): Promise<SavedModel> {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const name = path.basename(target);
  const overwrite = options.overwrite ?? false;

  const artifacts = await captureArtifacts(model);
  const { modelJson, weightFiles } = layoutPerLayer(model, artifacts);

  await fs.mkdir(parent, { recursive: true }).catch((e: unknown) => {
    throw new TfError(
      'SAVE_FAILED',
      `Cannot create parent directory ${parent} of model dir ${target}: ${describeError(e)}`,
      {
        cause: e,
        data: { path: parent },
      },
    );
  });
  await cleanStale(parent, name);
  if (!overwrite && (await exists(target))) {
    throw new TfError(
      'SAVE_FAILED',
      `Model dir ${target} already exists; pass { overwrite: true } to replace it`,
      {
        data: { path: target },
      },
    );
  }

  const temp = path.join(parent, `.${name}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  activeTemps.add(temp);
  try {
    await fs.mkdir(temp);
    const files: WrittenFile[] = [];
    files.push(await writeFileSynced(temp, MODEL_JSON, new TextEncoder().encode(modelJson)));
    for (const file of weightFiles) files.push(await writeFileSynced(temp, file.path, file.bytes));
    if (options.extraFiles !== undefined) {
      let extra: ExtraFiles;
      try {
        extra = await options.extraFiles(files.map((f) => ({ ...f })));
      } catch (e) {
        throw new TfError(
          'SAVE_FAILED',
          `extraFiles callback failed while saving ${target}: ${describeError(e)}`,
          {
            cause: e,
            data: { path: target },
          },
        );
      }
      const taken = new Set(files.map((f) => f.path));
      for (const rel of Object.keys(extra).sort()) {
        checkExtraPath(rel, taken, target);
        taken.add(rel);
        const content = extra[rel];
        const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
        if (!(bytes instanceof Uint8Array)) {
          throw new TfError(
            'INVALID_OPTION',
            `extraFiles[${JSON.stringify(rel)}] is ${typeof content}; expected a string or Uint8Array`,
            {
              data: { path: rel },
            },
          );
        }
        files.push(await writeFileSynced(temp, rel, bytes));
      }
    }
    await syncDir(temp);
    await publish(temp, target, overwrite);
    await syncDir(parent);
    return { dir: target, files };
  } catch (e) {
    await fs.rm(temp, { recursive: true, force: true }).catch(() => undefined);
    if (e instanceof TfError) throw e;
    const p = (e as { path?: unknown }).path;
    throw new TfError('SAVE_FAILED', `Saving model to ${target} failed: ${describeError(e)}`, {
      cause: e,
      data: { path: typeof p === 'string' ? p : target },
    });
  } finally {
    activeTemps.delete(temp);
  }
}

/**
 * Reads and validates a model directory written by {@link saveLayersModel} (or any standard tfjs
 * layers-model directory whose weight paths are relative), returning artifacts for
 * `tf.io.fromMemory`. Checks that model.json parses and is a layers-model, that every weight file
 * exists and has exactly the size its manifest entries require.
 *
 * @param dir - the model directory.
 * @returns the model artifacts, with all weights concatenated in manifest order.
 * @throws TfError `MODEL_NOT_FOUND`, `MODEL_JSON_INVALID`, `MODEL_FILE_MISSING`, `WEIGHTS_TRUNCATED`,
 *   `WEIGHTS_MISMATCH` — each names the file and the expected vs actual value.
 * @example
 * ```ts
 * const artifacts = await readModelArtifacts('./models/cnn');
 * const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
 * ```
 */
export async function readModelArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const root = path.resolve(dir);
  const jsonPath = path.join(root, MODEL_JSON);
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
      const why = (await exists(root))
        ? `${jsonPath} does not exist`
        : `directory ${root} does not exist`;
      throw new TfError(
        'MODEL_NOT_FOUND',
        `No model at ${root}: ${why} (expected a tfjs layers-model directory with model.json)`,
        {
          cause: e,
          data: { path: jsonPath },
        },
      );
    }
    throw new TfError('MODEL_NOT_FOUND', `Cannot read ${jsonPath}: ${describeError(e)}`, {
      cause: e,
      data: { path: jsonPath },
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TfError('MODEL_JSON_INVALID', `${jsonPath} is not valid JSON (${describeError(e)})`, {
      cause: e,
      data: { path: jsonPath },
    });
  }
  const parsed = validateModelJson(json, jsonPath);

  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const group of parsed.weightsManifest) {
    const expected = group.weights.reduce((sum, w) => sum + specBytes(w, jsonPath), 0);
    const parts: { file: string; bytes: Uint8Array }[] = [];
    for (const rel of group.paths) {
      const file = path.join(root, ...rel.split('/'));
      try {
        parts.push({ file, bytes: await fs.readFile(file) });
      } catch (e) {
        throw new TfError(
          'MODEL_FILE_MISSING',
          `Weight file ${file} listed in ${jsonPath} is missing (${describeError(e)}); expected ${expected} bytes for ${group.weights.map((w) => w.name).join(', ')}`,
          { cause: e, data: { path: file, expected } },
        );
      }
    }
    const actual = parts.reduce((sum, p) => sum + p.bytes.byteLength, 0);
    if (actual !== expected) {
      const files = parts.map((p) => `${p.file} (${p.bytes.byteLength} bytes)`).join(', ');
      const shapes = group.weights
        .map((w) => `${w.name} ${w.dtype}[${w.shape.join(',')}]`)
        .join(', ');
      const label = parts.length === 1 ? parts[0]?.file : files;
      throw new TfError(
        actual < expected ? 'WEIGHTS_TRUNCATED' : 'WEIGHTS_MISMATCH',
        actual < expected
          ? `Weight file ${label} is truncated: expected ${expected} bytes, found ${actual} (manifest: ${shapes})`
          : `Weight file ${label} is larger than its manifest says: expected ${expected} bytes, found ${actual} (manifest: ${shapes})`,
        { data: { path: parts.length === 1 ? parts[0]?.file : root, expected, actual } },
      );
    }
    specs.push(...group.weights);
    chunks.push(...parts.map((p) => p.bytes));
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: parsed.modelTopology,
    format: 'layers-model',
    weightSpecs: specs,
    weightData: concat(chunks),
  };
  if (typeof parsed.generatedBy === 'string') artifacts.generatedBy = parsed.generatedBy;
  if (typeof parsed.convertedBy === 'string' || parsed.convertedBy === null)
    artifacts.convertedBy = parsed.convertedBy;
  if (parsed.trainingConfig !== undefined)
    artifacts.trainingConfig = parsed.trainingConfig as tf.io.TrainingConfig;
  if (parsed.userDefinedMetadata !== undefined)
    artifacts.userDefinedMetadata = parsed.userDefinedMetadata as Record<string, never>;
  return artifacts;
}

/**
 * Loads a LayersModel from a model directory (see {@link readModelArtifacts} for the checks),
 * without tfjs-node. The topology is also checked against the manifest: a weight whose shape
 * differs from what the topology builds is reported with both shapes.
 *
 * @param dir - the model directory.
 * @param options - `strict` (default true).
 * @returns the model, with weights loaded (compiled when model.json carries a training config).
 * @throws TfError `MODEL_NOT_FOUND`, `MODEL_JSON_INVALID`, `MODEL_FILE_MISSING`, `WEIGHTS_TRUNCATED`,
 *   `WEIGHTS_MISMATCH`.
 * @example
 * ```ts
 * await initRuntime();
 * const model = await loadLayersModel('./models/cnn');
 * model.predict(tf.zeros([1, 28, 28, 1]));
 * ```
 */
export async function loadLayersModel(
  dir: string,
  options: LoadModelOptions = {},
): Promise<tf.LayersModel> {
  const root = path.resolve(dir);
  const artifacts = await readModelArtifacts(root);
  const strict = options.strict ?? true;
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts), { strict });
  } catch (e) {
    throw await diagnoseLoadFailure(root, artifacts, strict, e);
  }
}

async function diagnoseLoadFailure(
  root: string,
  artifacts: tf.io.ModelArtifacts,
  strict: boolean,
  failure: unknown,
): Promise<TfError> {
  const jsonPath = path.join(root, MODEL_JSON);
  let built: tf.LayersModel;
  try {
    built = await tf.models.modelFromJSON({
      modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
    } as never);
  } catch (e) {
    return new TfError(
      'MODEL_JSON_INVALID',
      `The modelTopology in ${jsonPath} cannot be built: ${describeError(e)}`,
      {
        cause: e,
        data: { path: jsonPath },
      },
    );
  }
  try {
    const manifest = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as {
      weightsManifest: ManifestGroup[];
    };
    const fileOf = new Map<string, string>();
    for (const g of manifest.weightsManifest)
      for (const w of g.weights) fileOf.set(w.name, path.join(root, g.paths[0] ?? ''));
    const specOf = new Map((artifacts.weightSpecs ?? []).map((s) => [s.name, s]));
    for (const w of built.weights) {
      const spec = specOf.get(w.originalName);
      if (spec === undefined) {
        return new TfError(
          'WEIGHTS_MISMATCH',
          `${jsonPath}: the topology needs weight ${w.originalName} with shape [${w.shape.join(',')}] but the weights manifest has no such entry`,
          {
            cause: failure,
            data: { path: jsonPath, expected: w.shape, actual: null },
          },
        );
      }
      if (spec.shape.length !== w.shape.length || spec.shape.some((d, i) => d !== w.shape[i])) {
        const file = fileOf.get(w.originalName) ?? jsonPath;
        return new TfError(
          'WEIGHTS_MISMATCH',
          `Weight ${w.originalName} in ${file}: the topology in ${jsonPath} expects shape [${w.shape.join(',')}], the manifest says [${spec.shape.join(',')}]`,
          { cause: failure, data: { path: file, expected: w.shape, actual: spec.shape } },
        );
      }
      specOf.delete(w.originalName);
    }
    if (strict && specOf.size > 0) {
      const extra = [...specOf.keys()];
      return new TfError(
        'WEIGHTS_MISMATCH',
        `${jsonPath}: the weights manifest has entries the topology does not use: ${extra.join(', ')}`,
        {
          cause: failure,
          data: { path: jsonPath, expected: [], actual: extra },
        },
      );
    }
  } finally {
    built.dispose();
  }
  return new TfError(
    'MODEL_JSON_INVALID',
    `TensorFlow.js could not load the model in ${root}: ${describeError(failure)}`,
    {
      cause: failure,
      data: { path: jsonPath },
    },
  );
}

async function captureArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        captured = artifacts;
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
    );
  } catch (e) {
    throw new TfError(
      'SAVE_FAILED',
      `Serialising model ${model.name} failed: ${describeError(e)}`,
      { cause: e },
    );
  }
  if (captured === undefined)
    throw new TfError('SAVE_FAILED', `Model ${model.name} produced no artifacts`);
  return captured;
}

function layoutPerLayer(
  model: tf.LayersModel,
  artifacts: tf.io.ModelArtifacts,
): { modelJson: string; weightFiles: { path: string; bytes: Uint8Array }[] } {
  const data = toBytes(artifacts.weightData);
  const specs = artifacts.weightSpecs ?? [];
  // Weight-owning layers in model order; a nested model (e.g. a frozen base inside a transfer
  // model) contributes its own layers, so each of them still gets its own file.
  const owners: tf.layers.Layer[] = [];
  const visit = (layers: readonly tf.layers.Layer[]): void => {
    for (const layer of layers) {
      const inner = (layer as unknown as { layers?: unknown }).layers;
      if (Array.isArray(inner)) visit(inner as tf.layers.Layer[]);
      else owners.push(layer);
    }
  };
  visit(model.layers);
  const layerOf = new Map<string, number>();
  owners.forEach((layer, index) => {
    for (const w of layer.weights)
      if (!layerOf.has(w.originalName)) layerOf.set(w.originalName, index);
  });

  // Group tfjs's specs by owning layer (tfjs lists trainable weights of all layers first, so a
  // frozen layer would otherwise move in the manifest); keep tfjs's order within a layer.
  const groups = new Map<
    string,
    { order: number; specs: tf.io.WeightsManifestEntry[]; chunks: Uint8Array[] }
  >();
  let offset = 0;
  for (const spec of specs) {
    const size = specBytes(spec, 'the model being saved');
    const chunk = data.subarray(offset, offset + size);
    if (chunk.byteLength !== size) {
      throw new TfError(
        'SAVE_FAILED',
        `Weight data of model ${model.name} ends before weight ${spec.name} (need ${size} bytes at ${offset}, have ${data.byteLength})`,
      );
    }
    offset += size;
    const index = layerOf.get(spec.name);
    const key =
      index === undefined
        ? (spec.name.split('/')[0] ?? spec.name)
        : (owners[index]?.name ?? spec.name);
    const order = index ?? owners.length;
    let group = groups.get(key);
    if (group === undefined) {
      group = { order, specs: [], chunks: [] };
      groups.set(key, group);
    }
    group.specs.push({ name: spec.name, shape: [...spec.shape], dtype: spec.dtype });
    group.chunks.push(chunk);
  }

  const used = new Set<string>();
  const manifest: ManifestGroup[] = [];
  const weightFiles: { path: string; bytes: Uint8Array }[] = [];
  const ordered = [...groups.entries()].sort((a, b) => a[1].order - b[1].order);
  for (const [layerName, group] of ordered) {
    const base = layerName.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'layer';
    let file = `${base}.weights.bin`;
    for (let n = 2; used.has(file); n++) file = `${base}_${n}.weights.bin`;
    used.add(file);
    manifest.push({ paths: [file], weights: group.specs });
    weightFiles.push({ path: file, bytes: new Uint8Array(concat(group.chunks)) });
  }

  const json: Record<string, unknown> = {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
  };
  if (artifacts.trainingConfig !== undefined) json['trainingConfig'] = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata !== undefined)
    json['userDefinedMetadata'] = artifacts.userDefinedMetadata;
  json['weightsManifest'] = manifest;
  return { modelJson: `${JSON.stringify(json, null, 2)}\n`, weightFiles };
}

function validateModelJson(
  json: unknown,
  jsonPath: string,
): {
  modelTopology: object;
  weightsManifest: ManifestGroup[];
  generatedBy?: unknown;
  convertedBy?: unknown;
  trainingConfig?: unknown;
  userDefinedMetadata?: unknown;
} {
  const bad = (what: string, data: Record<string, unknown> = {}): TfError =>
    new TfError('MODEL_JSON_INVALID', `${jsonPath} is not a tfjs layers-model: ${what}`, {
      data: { path: jsonPath, ...data },
    });
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw bad(`expected a JSON object, found ${Array.isArray(json) ? 'an array' : typeof json}`);
  const obj = json as Record<string, unknown>;
  if (obj['format'] !== undefined && obj['format'] !== 'layers-model') {
    throw bad(`format is ${JSON.stringify(obj['format'])}, expected "layers-model"`, {
      expected: 'layers-model',
      actual: obj['format'],
    });
  }
  const topology = obj['modelTopology'];
  if (topology === null || typeof topology !== 'object' || Array.isArray(topology)) {
    throw bad(
      `modelTopology is ${topology === undefined ? 'missing' : JSON.stringify(topology)?.slice(0, 40)}, expected an object`,
    );
  }
  const topo = topology as Record<string, unknown>;
  const cls =
    topo['class_name'] ??
    (topo['model_config'] as Record<string, unknown> | undefined)?.['class_name'];
  if (typeof cls !== 'string')
    throw bad(
      'modelTopology has no class_name (expected a Keras model config such as "Sequential" or "Model")',
    );
  const manifest = obj['weightsManifest'];
  if (!Array.isArray(manifest))
    throw bad(
      `weightsManifest is ${manifest === undefined ? 'missing' : typeof manifest}, expected an array`,
    );
  manifest.forEach((g: unknown, i) => {
    const group = g as Partial<ManifestGroup> | null;
    if (
      group === null ||
      typeof group !== 'object' ||
      !Array.isArray(group.paths) ||
      !Array.isArray(group.weights)
    ) {
      throw bad(`weightsManifest[${i}] must have "paths" and "weights" arrays`);
    }
    for (const p of group.paths) {
      if (
        typeof p !== 'string' ||
        p === '' ||
        p.startsWith('/') ||
        p.includes('\\') ||
        p.split('/').includes('..') ||
        /^[a-z]+:/i.test(p)
      ) {
        throw bad(
          `weightsManifest[${i}].paths has ${JSON.stringify(p)}, expected a relative file path inside the model dir`,
        );
      }
    }
    for (const w of group.weights as unknown[]) {
      const e = w as Partial<tf.io.WeightsManifestEntry> | null;
      if (
        e === null ||
        typeof e !== 'object' ||
        typeof e.name !== 'string' ||
        !Array.isArray(e.shape) ||
        !e.shape.every((d) => Number.isInteger(d) && d >= 0) ||
        typeof e.dtype !== 'string'
      ) {
        throw bad(
          `weightsManifest[${i}] has an invalid weight entry ${JSON.stringify(w)}, expected {name, shape: int[], dtype}`,
        );
      }
    }
  });
  return {
    modelTopology: topology,
    weightsManifest: manifest as ManifestGroup[],
    generatedBy: obj['generatedBy'],
    convertedBy: obj['convertedBy'],
    trainingConfig: obj['trainingConfig'],
    userDefinedMetadata: obj['userDefinedMetadata'],
  };
}

function specBytes(spec: tf.io.WeightsManifestEntry, where: string): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const per = DTYPE_BYTES[dtype];
  if (per === undefined) {
    throw new TfError(
      'MODEL_JSON_INVALID',
      `Weight ${spec.name} in ${where} has dtype ${JSON.stringify(dtype)}; expected one of ${Object.keys(DTYPE_BYTES).join(', ')}`,
      {
        data: { path: where, expected: Object.keys(DTYPE_BYTES), actual: dtype },
      },
    );
  }
  return spec.shape.reduce((n, d) => n * d, 1) * per;
}

function toBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (Array.isArray(data)) return new Uint8Array(concat(data.map((b) => new Uint8Array(b))));
  return new Uint8Array(data);
}

function concat(chunks: readonly Uint8Array[]): ArrayBuffer {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out.buffer;
}

function checkExtraPath(rel: string, taken: ReadonlySet<string>, target: string): void {
  const parts = rel.split('/');
  if (
    rel === '' ||
    rel.startsWith('/') ||
    rel.includes('\\') ||
    parts.some((p) => p === '' || p === '.' || p === '..')
  ) {
    throw new TfError(
      'INVALID_OPTION',
      `extraFiles path ${JSON.stringify(rel)} for ${target} is not a relative posix path inside the model dir`,
      {
        data: { path: rel },
      },
    );
  }
  if (taken.has(rel)) {
    throw new TfError(
      'INVALID_OPTION',
      `extraFiles path ${JSON.stringify(rel)} would replace a file the model save wrote`,
      {
        data: { path: rel },
      },
    );
  }
}

async function writeFileSynced(
  root: string,
  rel: string,
  bytes: Uint8Array | ArrayBuffer,
): Promise<WrittenFile> {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const file = path.join(root, ...rel.split('/'));
  if (rel.includes('/')) await fs.mkdir(path.dirname(file), { recursive: true });
  const handle = await fs.open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return {
    path: rel,
    bytes: data.byteLength,
    sha256: createHash('sha256').update(data).digest('hex'),
  };
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function publish(temp: string, target: string, overwrite: boolean): Promise<void> {
  if (!(await exists(target))) {
    await fs.rename(temp, target);
    return;
  }
  if (!overwrite) {
    throw new TfError(
      'SAVE_FAILED',
      `Model dir ${target} already exists; pass { overwrite: true } to replace it`,
      {
        data: { path: target },
      },
    );
  }
  const parent = path.dirname(target);
  const old = path.join(
    parent,
    `.${path.basename(target)}.old-${process.pid}-${randomBytes(6).toString('hex')}`,
  );
  activeTemps.add(old);
  try {
    await fs.rename(target, old);
    await fs.rename(temp, target);
    await fs.rm(old, { recursive: true, force: true });
  } finally {
    activeTemps.delete(old);
  }
}

async function cleanStale(parent: string, name: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(parent);
  } catch {
    return;
  }
  const target = path.join(parent, name);
  const prefix = `.${name}.`;
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const m = /^(tmp|old)-(\d+)-[0-9a-f]+$/.exec(entry.slice(prefix.length));
    if (m === null) continue;
    const full = path.join(parent, entry);
    const pid = Number(m[2]);
    if (activeTemps.has(full) || (pid !== process.pid && isAlive(pid))) continue;
    // A crash between "rename old away" and "rename new in" leaves no model at `dir`: restore it.
    if (m[1] === 'old' && !(await exists(target))) {
      await fs.rename(full, target).catch(() => undefined);
      continue;
    }
    await fs.rm(full, { recursive: true, force: true }).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}
