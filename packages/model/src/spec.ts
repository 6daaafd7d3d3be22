import { NAME_GRAMMAR, isValidName } from '@mlship/core';
import type { InputSpec } from '@mlship/core';
import { ALL_LAYERS, layerDefinition } from './layers/all-layers';
import type { LayerSpec } from './layers/all-layers';
import { fail, isRecord, positiveInt } from './layers/fields';
import type { LayerDefinition, ModelPart } from './layers/layer-definition';

/**
 * A declarative, JSON-serialisable description of an image classifier: input, ordered layers,
 * number of classes. The model's output must be a softmax over `classes` (the last layer is a
 * `dense` with `units: classes` and `activation: 'softmax'`, or a linear `dense(classes)` followed
 * by `activation: 'softmax'`). A type alias rather than an interface so that it is assignable to
 * `Record<string, unknown>`: a `ModelMeta` of this package is then a `ModelMeta` of @mlship/core.
 */
export type ModelSpec = {
  /**
   * Model name in @mlship/core's name grammar (lowercase `[a-z0-9]` with inner `.`, `_`, `-`, ending
   * in `[a-z0-9]`; the registry's), used as the tf model name and the default `mlship.json` name.
   */
  name: string;
  /** What one input image looks like and how raw pixels are scaled. */
  input: InputSpec;
  /** The layers in order. */
  layers: LayerSpec[];
  /** Number of output classes (>= 2). */
  classes: number;
};

/** A layer of a validated spec with its resolved name and shapes (internal view used by the builder). */
export interface ResolvedLayer {
  /** Index in `spec.layers`. */
  index: number;
  /** The stable name (given or generated). */
  name: string;
  /** `'features'` up to and including the first flatten/globalAveragePooling2d, `'head'` after. */
  part: ModelPart;
  /** The layer spec. */
  spec: LayerSpec;
  /** The definition of its type (how it builds itself). */
  definition: LayerDefinition<LayerSpec>;
  /** Shape of one example entering the layer (no batch axis). */
  inputShape: number[];
  /** Shape of one example leaving the layer (no batch axis). */
  outputShape: number[];
}

const LAYER_NAME_RE = /^(features|head)_[a-z0-9][a-z0-9_]*$/;
const LAYER_TYPES = ALL_LAYERS.map((d) => `'${d.type}'`).join(', ');

function checkInput(input: unknown): number[] {
  if (!isRecord(input)) fail('input', 'an object {shape, dtype, scale, offset}', input);
  const shape = input['shape'];
  if (!Array.isArray(shape) || shape.length !== 3)
    fail('input.shape', '[height, width, channels]', shape);
  shape.forEach((d, i) => positiveInt(d, `input.shape[${i}]`));
  if (input['dtype'] !== 'float32') fail('input.dtype', "'float32'", input['dtype']);
  for (const key of ['scale', 'offset'] as const) {
    const v = input[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`input.${key}`, 'a finite number', v);
  }
  if (input['scale'] === 0) fail('input.scale', 'a non-zero number', 0);
  return [...(shape as number[])];
}

/** The layer's given name, checked, or a generated one. */
function layerName(
  layer: Record<string, unknown>,
  definition: LayerDefinition<LayerSpec>,
  part: ModelPart,
  path: string,
  isOutput: boolean,
  counters: Map<string, number>,
): string {
  const given = layer['name'];
  if (given !== undefined) {
    if (typeof given !== 'string' || !LAYER_NAME_RE.test(given)) {
      fail(`${path}.name`, `a name matching ${part}_[a-z0-9][a-z0-9_]*`, given);
    }
    if (!given.startsWith(`${part}_`)) {
      fail(
        `${path}.name`,
        `a name starting with '${part}_' (this layer is in the ${part} part)`,
        given,
      );
    }
    return given;
  }
  if (isOutput && definition.type === 'dense') return 'head_output';
  if (isOutput && definition.type === 'activation') return 'head_softmax';
  const key = `${part}_${definition.namePrefix}`;
  const n = (counters.get(key) ?? 0) + 1;
  counters.set(key, n);
  return definition.endsFeatures ? key : `${key}${n}`;
}

/** The output must be a softmax distribution over `classes`. */
function checkOutput(resolved: readonly ResolvedLayer[], classes: number): void {
  const last = resolved[resolved.length - 1]!;
  const lastPath = `layers[${last.index}]`;
  if (last.spec.type === 'dense') {
    if (last.spec.units !== classes)
      fail(`${lastPath}.units`, `${classes} (classes) for the output layer`, last.spec.units);
    if (last.spec.activation !== 'softmax')
      fail(`${lastPath}.activation`, "'softmax' for the output layer", last.spec.activation);
  } else if (last.spec.type === 'activation' && last.spec.activation === 'softmax') {
    const prev = resolved[resolved.length - 2];
    if (prev?.spec.type !== 'dense')
      fail(
        `${lastPath}.type`,
        "a 'dense' layer before the final softmax activation",
        prev?.spec.type,
      );
    if (prev.spec.units !== classes)
      fail(
        `layers[${prev.index}].units`,
        `${classes} (classes) for the output layer`,
        prev.spec.units,
      );
    if ((prev.spec.activation ?? 'linear') !== 'linear')
      fail(
        `layers[${prev.index}].activation`,
        "'linear' before the final softmax",
        prev.spec.activation,
      );
  } else {
    fail(
      `${lastPath}.type`,
      `'dense' with ${classes} units and softmax activation as the output layer`,
      last.spec.type,
    );
  }
}

/**
 * Checks a spec (typically parsed JSON) field by field and resolves layer names and shapes. Each
 * layer's own fields and shape flow are its type's business (`layers/<type>.ts`).
 *
 * @internal Used by {@link validateSpec} and the builder.
 */
export function resolveSpec(value: unknown): { spec: ModelSpec; layers: ResolvedLayer[] } {
  if (!isRecord(value)) fail('spec', 'an object', value);
  for (const key of Object.keys(value)) {
    if (!['name', 'input', 'layers', 'classes'].includes(key))
      fail(key, 'no such field (name, input, layers, classes)', value[key]);
  }
  const name = value['name'];
  if (!isValidName(name))
    fail('name', `a name matching the model-name grammar (${NAME_GRAMMAR})`, name);

  let current = checkInput(value['input']);

  const classes = value['classes'];
  if (typeof classes !== 'number' || !Number.isInteger(classes) || classes < 2)
    fail('classes', 'an integer >= 2', classes);

  const layers = value['layers'];
  if (!Array.isArray(layers) || layers.length === 0)
    fail('layers', 'a non-empty array of layer specs', layers);

  const resolved: ResolvedLayer[] = [];
  const names = new Set<string>();
  const counters = new Map<string, number>();
  let part: ModelPart = 'features';
  layers.forEach((layer: unknown, index: number) => {
    const path = `layers[${index}]`;
    if (!isRecord(layer)) fail(path, 'a layer spec object', layer);
    const type = layer['type'];
    const found = typeof type === 'string' ? layerDefinition(type) : undefined;
    if (found === undefined) fail(`${path}.type`, `one of ${LAYER_TYPES}`, type);
    const definition = found as LayerDefinition<LayerSpec>;
    for (const key of Object.keys(layer)) {
      if (layer[key] !== undefined && !definition.keys.includes(key))
        fail(
          `${path}.${key}`,
          `no such field for '${definition.type}' (${definition.keys.join(', ')})`,
          layer[key],
        );
    }
    const inputShape = current;
    current = definition.outputShape(layer, { path, input: inputShape, part });
    const layerPart: ModelPart = part;
    if (definition.endsFeatures) part = 'head';

    const next = layers[index + 1] as unknown;
    const isOutput =
      index === layers.length - 1 ||
      (index === layers.length - 2 &&
        definition.type === 'dense' &&
        isRecord(next) &&
        next['type'] === 'activation');
    const name = layerName(layer, definition, layerPart, path, isOutput, counters);
    if (names.has(name)) fail(`${path}.name`, 'a name no other layer uses', name);
    names.add(name);
    resolved.push({
      index,
      name,
      part: layerPart,
      spec: layer as unknown as LayerSpec,
      definition,
      inputShape,
      outputShape: current,
    });
  });
  checkOutput(resolved, classes);
  return { spec: value as unknown as ModelSpec, layers: resolved };
}

/**
 * Validates a model spec (for instance parsed from JSON) and returns it typed.
 *
 * Checks every field and the shape flow through the layers (a kernel larger than its input, a
 * `dense` on a spatial input, an output that is not a softmax over `classes`, ...).
 *
 * @param value - the candidate spec
 * @returns the same object, typed as {@link ModelSpec}
 * @throws {@link ModelError} `INVALID_SPEC`, message `<path>: expected <what>, got <value>` and `data.path`
 * @example
 * ```ts
 * validateSpec({ ...modelASpec(), layers: [{ type: 'conv2d', filters: -3, kernelSize: 3 }] });
 * // ModelError: layers[0].filters: expected a positive integer, got -3
 * ```
 */
export function validateSpec(value: unknown): ModelSpec {
  return resolveSpec(value).spec;
}
