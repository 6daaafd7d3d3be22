import { getRuntimeInfo, tf } from '@mlship/tf';
import { ModelError } from './errors';
import { rememberInputSpec } from './internal/data';
import { checkOptionKeys } from './internal/options';
import type { ModelPart } from './layers/layer-definition';
import type { ModelSpec } from './spec';
import { resolveSpec } from './spec';

/** Options of {@link buildModel}. */
export interface BuildModelOptions {
  /**
   * Seed of the weight initialisers (integer, default 0): the same spec and seed give bit-identical
   * initial weights. Each layer derives its own seed from this one and its index.
   */
  seed?: number;
}

/** Derives a per-layer initialiser seed (a positive 31-bit integer) from the model seed and the layer index. */
function layerSeed(seed: number, index: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}:${index}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 1) + 1;
}

/**
 * Before any `initRuntime`, TensorFlow.js starts its pure-JS cpu backend on the first tensor, and
 * that backend prints "install our node backend" on its first write. Building a model is fine there
 * (`train`/`evaluate`/`predict` make the fast runtime ready and the weights move to it), and a
 * library must not print, so the banner is switched off the way @mlship/tf's initRuntime does.
 */
function quietCpuBanner(): void {
  if (getRuntimeInfo() !== undefined) return;
  // tf.backend() starts the best registered backend (getBackend() alone reports none yet).
  const backend = tf.backend() as unknown as { firstUse?: boolean };
  if (tf.getBackend() === 'cpu' && typeof backend.firstUse === 'boolean') backend.firstUse = false;
}

/**
 * Builds a `tf.LayersModel` (functional, input layer named `input`) from a spec, with seeded
 * initialisers and the spec's stable layer names. The model is not compiled. {@link train},
 * {@link evaluate} and {@link predict} use the spec's `input` scaling for it unless told otherwise.
 *
 * @param spec - a {@link ModelSpec} (validated here)
 * @param options - `seed` of the initialisers (default 0)
 * @returns the untrained model
 * @throws {@link ModelError} `INVALID_SPEC` when the spec is invalid, `INVALID_OPTION` for a bad seed
 * @example
 * ```ts
 * const model = buildModel(defaultCnnSpec(), { seed: 42 });
 * model.getLayer('features_conv1'); // the first convolution
 * ```
 */
export function buildModel(spec: ModelSpec, options: BuildModelOptions = {}): tf.LayersModel {
  checkOptionKeys(options, ['seed'], 'buildModel options');
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) {
    throw new ModelError('INVALID_OPTION', `seed: expected an integer, got ${String(seed)}`, {
      data: { path: 'seed' },
    });
  }
  const { spec: valid, layers } = resolveSpec(spec);
  quietCpuBanner();
  const input = tf.input({ shape: [...valid.input.shape], name: 'input', dtype: 'float32' });
  let x: tf.SymbolicTensor = input;
  for (const layer of layers) {
    const built = layer.definition.build(layer.spec, {
      name: layer.name,
      seed: layerSeed(seed, layer.index),
    });
    x = built.apply(x) as tf.SymbolicTensor;
  }
  const model = tf.model({ inputs: input, outputs: x, name: valid.name });
  rememberInputSpec(model, valid.input);
  return model;
}

/**
 * The layers of one part of a model built from a spec: `'features'` (names starting `features_`,
 * up to and including the flatten) or `'head'` (names starting `head_`).
 *
 * @param model - a model built by {@link buildModel} or loaded by {@link loadModelDir}
 * @param part - `'features'` or `'head'`
 * @returns the layers in model order (may be empty for a model not built from a spec)
 * @throws {@link ModelError} `INVALID_OPTION` for an unknown part
 * @example
 * ```ts
 * layersOf(model, 'head').map((l) => l.name); // ['head_dense1', 'head_output']
 * ```
 */
export function layersOf(model: tf.LayersModel, part: ModelPart): tf.layers.Layer[] {
  if (part !== 'features' && part !== 'head') {
    throw new ModelError(
      'INVALID_OPTION',
      `part: expected 'features' or 'head', got ${JSON.stringify(part)}`,
      { data: { path: 'part' } },
    );
  }
  return model.layers.filter((l) => l.name.startsWith(`${part}_`));
}

function setTrainable(
  model: tf.LayersModel,
  target: ModelPart | readonly string[],
  trainable: boolean,
): string[] {
  const layers =
    typeof target === 'string'
      ? layersOf(model, target)
      : target.map((name) => {
          const found = model.layers.find((l) => l.name === name);
          if (found === undefined) {
            throw new ModelError(
              'INVALID_OPTION',
              `layers: expected names of layers of the model, got ${JSON.stringify(name)}`,
              {
                data: { path: 'layers', available: model.layers.map((l) => l.name) },
              },
            );
          }
          return found;
        });
  for (const layer of layers) layer.trainable = trainable;
  return layers.map((l) => l.name);
}

/**
 * Freezes a part of the model (or the named layers): their weights stop changing in {@link train}.
 * A frozen batch-normalisation layer also keeps its moving statistics (Keras 2 semantics) once
 * `initRuntime()` of @mlship/tf has applied its BatchNormalization fix.
 *
 * @param model - the model (changed in place)
 * @param target - `'features'`, `'head'`, or a list of layer names
 * @returns the names of the layers frozen
 * @throws {@link ModelError} `INVALID_OPTION` for an unknown part or layer name
 * @example
 * ```ts
 * freeze(model, 'features'); // transfer: train only the head
 * ```
 */
export function freeze(model: tf.LayersModel, target: ModelPart | readonly string[]): string[] {
  return setTrainable(model, target, false);
}

/**
 * Makes a part of the model (or the named layers) trainable again; the inverse of {@link freeze}.
 *
 * @param model - the model (changed in place)
 * @param target - `'features'`, `'head'`, or a list of layer names
 * @returns the names of the layers unfrozen
 * @throws {@link ModelError} `INVALID_OPTION` for an unknown part or layer name
 * @example
 * ```ts
 * unfreeze(model, ['features_conv2']); // fine-tune the last conv block too
 * ```
 */
export function unfreeze(model: tf.LayersModel, target: ModelPart | readonly string[]): string[] {
  return setTrainable(model, target, true);
}
