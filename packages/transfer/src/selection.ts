import type { tf } from '@mlship/tf';
import { layersOf } from '@mlship/model';
import { TransferError, show } from './errors';
import type { LayerSelection } from './strategy';
import { validateSelection } from './strategy';

/**
 * The layers of a model a selection may address: every layer but the input layer, in model order
 * (so index `i` of a `range` is spec layer `i`).
 *
 * @internal
 */
export function modelLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => l.getClassName() !== 'InputLayer');
}

function noLayer(path: string, message: string, model: tf.LayersModel, layer?: string): never {
  const names = modelLayers(model).map((l) => l.name);
  throw new TransferError(
    'INVALID_STRATEGY',
    `${path}: ${message} of model ${JSON.stringify(model.name)}; its layers: ${names.join(', ')}`,
    { data: { path, available: names, ...(layer === undefined ? {} : { layer }) } },
  );
}

const list = (v: string | readonly string[]): readonly string[] =>
  typeof v === 'string' ? [v] : v;

function select(
  model: tf.LayersModel,
  selection: LayerSelection,
  path: string,
  out: Set<tf.layers.Layer>,
): void {
  const layers = modelLayers(model);
  if (selection === 'features' || selection === 'head') {
    const found = layersOf(model, selection);
    if (found.length === 0) {
      noLayer(
        path,
        `${show(selection)} names no layer (no layer name starts with "${selection}_")`,
        model,
      );
    }
    found.forEach((l) => out.add(l));
    return;
  }
  if (Array.isArray(selection)) {
    selection.forEach((s: LayerSelection, i: number) => select(model, s, `${path}[${i}]`, out));
    return;
  }
  const s = selection as Exclude<LayerSelection, string | readonly LayerSelection[]>;
  if ('name' in s) {
    const names = list(s.name);
    names.forEach((name, i) => {
      const at = typeof s.name === 'string' ? `${path}.name` : `${path}.name[${i}]`;
      const found = layers.find((l) => l.name === name);
      if (found === undefined) noLayer(at, `${show(name)} is not a layer`, model, name);
      out.add(found);
    });
    return;
  }
  if ('type' in s) {
    list(s.type).forEach((type, i) => {
      const at = typeof s.type === 'string' ? `${path}.type` : `${path}.type[${i}]`;
      const wanted = type.toLowerCase();
      const found = layers.filter((l) => l.getClassName().toLowerCase() === wanted);
      if (found.length === 0) noLayer(at, `type ${show(type)} matches no layer`, model);
      found.forEach((l) => out.add(l));
    });
    return;
  }
  const [start, end] = s.range;
  if (end > layers.length) {
    noLayer(
      `${path}.range`,
      `[${start}, ${end}] reaches past the last layer (there are ${layers.length}, indices 0..${layers.length - 1})`,
      model,
    );
  }
  layers.slice(start, end).forEach((l) => out.add(l));
}

/**
 * Resolves a {@link LayerSelection} against a model.
 *
 * @param model - the model
 * @param selection - the selection (checked here too)
 * @param path - the selection's field path for messages (default `'layers'`)
 * @returns the selected layers, in model order, each once
 * @throws {@link TransferError} `INVALID_STRATEGY` when the selection is malformed or names no layer
 *   of the model: the message names the field (`data.path`), the missing layer (`data.layer`) and
 *   the model's layers (`data.available`)
 * @example
 * ```ts
 * selectLayers(model, { type: 'conv2d' }).map((l) => l.name); // ['features_conv1', 'features_conv2']
 * ```
 */
export function selectLayers(
  model: tf.LayersModel,
  selection: LayerSelection,
  path = 'layers',
): tf.layers.Layer[] {
  validateSelection(selection, path);
  const chosen = new Set<tf.layers.Layer>();
  select(model, selection, path, chosen);
  return modelLayers(model).filter((l) => chosen.has(l));
}
