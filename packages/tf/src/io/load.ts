import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MODEL_JSON_FILE, errnoCode } from '@mlship/core';
import type { IntegrityReason } from '@mlship/core';
import * as tf from '@tensorflow/tfjs';
import { TfError, describeError } from '../errors';
import { checkTfOptions } from '../options';
import { concat } from './layout';
import type { LoadModelOptions, ModelJson } from './types';
import { diagnoseLoadFailure, specBytes, validateModelJson } from './validate';

const LOAD_OPTIONS: readonly (keyof LoadModelOptions)[] = ['strict'];

/**
 * Reads and validates a model directory written by {@link saveLayersModel} (or any standard tfjs
 * layers-model directory whose weight paths are relative), returning artifacts for
 * `tf.io.fromMemory`. Checks that model.json parses and is a layers-model, that every weight file
 * exists and has exactly the size its manifest entries require.
 *
 * @param dir - the model directory.
 * @returns the model artifacts, with all weights concatenated in manifest order.
 * @throws TfError `NOT_A_MODEL_DIR` (no directory or no model.json), `READ_FAILED` (model.json
 *   unreadable), `MODEL_JSON_INVALID`, `INTEGRITY` (a weight file missing, unreadable or of the
 *   wrong size: `data.reason` `'missing' | 'unreadable' | 'not-regular' | 'size'`) — each names the
 *   file and the expected vs actual value.
 * @example
 * ```ts
 * const artifacts = await readModelArtifacts('./models/cnn');
 * const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
 * ```
 */
export async function readModelArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  return (await readModelDir(path.resolve(dir))).artifacts;
}

/**
 * Loads a LayersModel from a model directory (see {@link readModelArtifacts} for the checks),
 * without tfjs-node. The topology is also checked against the manifest: a weight whose shape
 * differs from what the topology builds is reported with both shapes.
 *
 * @param dir - the model directory.
 * @param options - `strict` (default true).
 * @returns the model, with weights loaded (compiled when model.json carries a training config).
 * @throws TfError `NOT_A_MODEL_DIR`, `READ_FAILED`, `MODEL_JSON_INVALID`, `INTEGRITY`,
 *   `WEIGHTS_MISMATCH` (manifest shapes or names disagree with the topology); `INVALID_OPTION` for
 *   an unknown option key.
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
  checkTfOptions(options, LOAD_OPTIONS, 'loadLayersModel options');
  const root = path.resolve(dir);
  const { artifacts, parsed, jsonPath } = await readModelDir(root);
  const strict = options.strict ?? true;
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts), { strict });
  } catch (e) {
    throw await diagnoseLoadFailure(root, jsonPath, parsed, strict, e);
  }
}

async function readModelDir(
  root: string,
): Promise<{ artifacts: tf.io.ModelArtifacts; parsed: ModelJson; jsonPath: string }> {
  const jsonPath = path.join(root, MODEL_JSON_FILE);
  const parsed = validateModelJson(await readModelJson(root, jsonPath), jsonPath);

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
        const code = errnoCode(e);
        const reason: IntegrityReason =
          code === 'ENOENT' || code === 'ENOTDIR'
            ? 'missing'
            : code === 'EISDIR'
              ? 'not-regular'
              : 'unreadable';
        const what = reason === 'missing' ? 'is missing' : 'cannot be read';
        throw new TfError(
          'INTEGRITY',
          `Weight file ${file} listed in ${jsonPath} ${what} (${describeError(e)}); expected ${expected} bytes for ${group.weights.map((w) => w.name).join(', ')}`,
          { cause: e, data: { path: file, reason, expected } },
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
        'INTEGRITY',
        actual < expected
          ? `Weight file ${label} is truncated: expected ${expected} bytes, found ${actual} (manifest: ${shapes})`
          : `Weight file ${label} is larger than its manifest says: expected ${expected} bytes, found ${actual} (manifest: ${shapes})`,
        {
          data: {
            path: parts.length === 1 ? parts[0]?.file : root,
            reason: 'size',
            expected,
            actual,
          },
        },
      );
    }
    specs.push(...group.weights);
    chunks.push(...parts.map((p) => p.bytes));
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: parsed.modelTopology,
    format: 'layers-model',
    weightSpecs: specs,
    weightData: concat(chunks).buffer as ArrayBuffer,
  };
  if (typeof parsed.generatedBy === 'string') artifacts.generatedBy = parsed.generatedBy;
  if (typeof parsed.convertedBy === 'string' || parsed.convertedBy === null)
    artifacts.convertedBy = parsed.convertedBy;
  if (parsed.trainingConfig !== undefined)
    artifacts.trainingConfig = parsed.trainingConfig as tf.io.TrainingConfig;
  if (parsed.userDefinedMetadata !== undefined)
    artifacts.userDefinedMetadata = parsed.userDefinedMetadata as Record<string, never>;
  return { artifacts, parsed, jsonPath };
}

/** model.json of `root`, parsed: `NOT_A_MODEL_DIR`, `READ_FAILED` or `MODEL_JSON_INVALID` if not. */
async function readModelJson(root: string, jsonPath: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
      const why = (await exists(root))
        ? `${jsonPath} does not exist`
        : `directory ${root} does not exist`;
      throw new TfError(
        'NOT_A_MODEL_DIR',
        `No model at ${root}: ${why} (expected a tfjs layers-model directory with model.json)`,
        {
          cause: e,
          data: { path: jsonPath },
        },
      );
    }
    throw new TfError('READ_FAILED', `Cannot read ${jsonPath}: ${describeError(e)}`, {
      cause: e,
      data: { path: jsonPath },
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TfError('MODEL_JSON_INVALID', `${jsonPath} is not valid JSON (${describeError(e)})`, {
      cause: e,
      data: { path: jsonPath },
    });
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
