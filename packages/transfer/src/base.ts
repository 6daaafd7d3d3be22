import path from 'node:path';
import { isValidName, mixSeed } from '@mlship/core';
import type { InputSpec, ModelMeta, ModelSpec, ParentRef } from '@mlship/model';
import { loadModelDir } from '@mlship/model';
import { initRuntime, tf } from '@mlship/tf';
import { asTransferError, optionError } from './errors';

/**
 * A base model ready for strategies: the loaded model (never changed by a strategy, which works on
 * a copy) and what its `mlship.json` says about it. Load it once with {@link loadBase} when several
 * strategies or seeds start from it.
 */
export interface TransferBase {
  /** The base model. Strategies copy it; dispose it when done. */
  model: tf.LayersModel;
  /** Model name (mlship.json `name`, else the tf model's name). */
  name: string;
  /** Class names, or null when unknown (a bare LayersModel without `labels`). */
  labels: string[] | null;
  /** How the model scales raw pixels. */
  input: InputSpec;
  /** The spec that built it, or null. */
  spec: ModelSpec | null;
  /** What a derived model records as its `parent`. */
  parent: ParentRef;
  /** The directory it was loaded from, or null. */
  dir: string | null;
  /** Its full `mlship.json`, when loaded from a directory. */
  meta: ModelMeta | null;
}

/** Options of {@link loadBase}. */
export interface LoadBaseOptions {
  /**
   * What derived models record as `parent` (default: for a directory, its absolute path; for a
   * LayersModel, its name). Pass the registry reference (e.g. `'cnn@v1.0.0'` or
   * `{ name: 'cnn', version: 1, ref: 'cnn@v1.0.0' }`) when the base came from a registry.
   */
  parent?: ParentRef;
  /** Input scaling of a bare LayersModel (default: its input shape, scale 1/255, offset 0). */
  input?: InputSpec;
  /** The spec of a bare LayersModel, recorded in derived models' `mlship.json` (default null). */
  spec?: ModelSpec | null;
  /** Class names of a bare LayersModel (default: the target data's). */
  labels?: readonly string[];
}

/** A base as a transfer call accepts it: a model directory, a LayersModel, or a loaded base. */
export type BaseModel = string | tf.LayersModel | TransferBase;

function isTransferBase(v: unknown): v is TransferBase {
  return typeof v === 'object' && v !== null && 'model' in v && 'input' in v && 'parent' in v;
}

/**
 * Loads (or wraps) a base model: a model directory is verified and loaded through @mlship/model's
 * `loadModelDir`; a LayersModel is wrapped as it is. Starts the TensorFlow.js runtime if needed.
 *
 * @param base - a model directory, a LayersModel, or an already loaded base (returned as is)
 * @param options - `parent`, and for a bare LayersModel `input`, `spec`, `labels`
 * @returns the base
 * @throws {@link TransferError} `NOT_A_MODEL_DIR`, `INVALID_META`, `INTEGRITY`, `LOAD_FAILED` for a
 *   directory that is not a verified model directory; `INVALID_OPTION` for anything else
 * @example
 * ```ts
 * const base = await loadBase('./models/cnn-v1', { parent: 'cnn@v1.0.0' });
 * base.model.summary();
 * ```
 */
export async function loadBase(
  base: BaseModel,
  options: LoadBaseOptions = {},
): Promise<TransferBase> {
  if (isTransferBase(base)) return base;
  await initRuntime();
  if (typeof base === 'string') {
    const dir = path.resolve(base);
    let loaded: Awaited<ReturnType<typeof loadModelDir>>;
    try {
      loaded = await loadModelDir(dir);
    } catch (e) {
      throw asTransferError(e, 'LOAD_FAILED', `loading base model ${dir}`);
    }
    const { model, meta } = loaded;
    return {
      model,
      name: meta.name,
      labels: [...meta.labels],
      input: meta.input,
      spec: meta.spec,
      parent: options.parent ?? dir,
      dir,
      meta,
    };
  }
  if (!(base instanceof tf.LayersModel)) {
    throw optionError('base', 'a model directory path, a tf.LayersModel or a loaded base', base);
  }
  const shape = base.inputs[0]?.shape ?? [];
  const [, h, w, c] = shape;
  if (
    shape.length !== 4 ||
    typeof h !== 'number' ||
    typeof w !== 'number' ||
    typeof c !== 'number'
  ) {
    throw optionError('base', 'an image model with input [batch, height, width, channels]', shape);
  }
  const name = isValidName(base.name) ? base.name : 'model';
  return {
    model: base,
    name,
    labels: options.labels === undefined ? null : [...options.labels],
    input: options.input ?? { shape: [h, w, c], dtype: 'float32', scale: 1 / 255, offset: 0 },
    spec: options.spec ?? null,
    parent: options.parent ?? name,
    dir: null,
    meta: null,
  };
}

type Json = Record<string, unknown>;

/**
 * A copy of the model's topology with fresh weights: every initialiser seed of the layers in
 * `reseed` (all layers when omitted) is replaced by one derived from `seed` and the layer's index.
 * `units` of the named layer can be changed on the way (a new output size).
 *
 * @internal
 */
export async function cloneTopology(
  model: tf.LayersModel,
  options: {
    seed: number;
    reseed?: ReadonlySet<string>;
    units?: { layer: string; units: number };
  },
): Promise<tf.LayersModel> {
  const topology = model.toJSON(undefined, false) as unknown as Json;
  const config = topology['config'] as { layers: Json[] };
  config.layers.forEach((layer, index) => {
    const name = layer['name'] as string;
    const layerConfig = layer['config'] as Json;
    if (options.units !== undefined && options.units.layer === name) {
      layerConfig['units'] = options.units.units;
    }
    if (options.reseed !== undefined && !options.reseed.has(name)) return;
    let k = 0;
    for (const [key, value] of Object.entries(layerConfig)) {
      if (!key.endsWith('_initializer') || typeof value !== 'object' || value === null) continue;
      const init = (value as Json)['config'] as Json | undefined;
      k += 1;
      // Seedable initialisers (glorot, he, random*) take `seed`; constants ignore it.
      if (init !== undefined && 'seed' in init)
        init['seed'] = mixSeed(options.seed, index, k) >>> 1;
    }
  });
  return tf.models.modelFromJSON({
    modelTopology: topology,
  } as unknown as tf.io.ModelJSON);
}

/**
 * A copy of the model with its weights (moving statistics included) and `trainable` flags.
 *
 * @internal
 */
export async function cloneModel(model: tf.LayersModel): Promise<tf.LayersModel> {
  const copy = await cloneTopology(model, { seed: 0, reseed: new Set() });
  copy.setWeights(model.getWeights());
  model.layers.forEach((l, i) => {
    copy.layers[i]!.trainable = l.trainable;
  });
  return copy;
}
