import path from 'node:path';
import { isSafeRelativePath } from '@mlship/core';
import * as tf from '@tensorflow/tfjs';
import { TfError, describeError } from '../errors';
import type { ManifestGroup, ModelJson } from './types';

/** Bytes per element of every dtype a weights manifest may hold. */
const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  int16: 2,
  float16: 2,
};

/**
 * @internal
 * Checks that a parsed model.json is a tfjs layers-model with a well-formed weights manifest whose
 * paths stay inside the model directory.
 *
 * @throws TfError `MODEL_JSON_INVALID` naming the field and what was expected.
 */
export function validateModelJson(json: unknown, jsonPath: string): ModelJson {
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
      // A URL (`https:`, `data:`) is not a file of the directory either.
      if (!isSafeRelativePath(p) || /^[a-z]+:/i.test(p)) {
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

/**
 * @internal
 * The size in bytes a manifest entry's values take (quantised entries: their stored dtype).
 *
 * @throws TfError `MODEL_JSON_INVALID` for an unknown dtype.
 */
export function specBytes(spec: tf.io.WeightsManifestEntry, where: string): number {
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

/**
 * @internal
 * Checks one `extraFiles` path: relative, posix, inside the model directory, and not a file the
 * save already wrote.
 *
 * @throws TfError `INVALID_OPTION` naming the path.
 */
export function checkExtraPath(rel: string, taken: ReadonlySet<string>, target: string): void {
  if (!isSafeRelativePath(rel)) {
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

/**
 * @internal
 * Explains why TensorFlow.js refused to load validated artifacts: builds the topology alone and
 * compares the weights it creates with the manifest, naming the first weight whose shape differs,
 * a weight the manifest lacks, or (with `strict`) manifest entries the topology does not use.
 *
 * @returns the TfError to throw (`WEIGHTS_MISMATCH`, or `MODEL_JSON_INVALID` when the topology
 *   itself cannot be built or nothing specific was found), with `failure` as its cause.
 */
export async function diagnoseLoadFailure(
  root: string,
  jsonPath: string,
  parsed: ModelJson,
  strict: boolean,
  failure: unknown,
): Promise<TfError> {
  let built: tf.LayersModel;
  try {
    built = await tf.models.modelFromJSON({
      modelTopology: parsed.modelTopology as tf.io.ModelJSON['modelTopology'],
    });
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
    const fileOf = new Map<string, string>();
    for (const g of parsed.weightsManifest)
      for (const w of g.weights) fileOf.set(w.name, path.join(root, g.paths[0] ?? ''));
    const specOf = new Map(
      parsed.weightsManifest.flatMap((g) => g.weights).map((s) => [s.name, s] as const),
    );
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
