import { activation } from './activation';
import { batchNormalization } from './batch-normalization';
import { conv2d } from './conv2d';
import { dense } from './dense';
import { dropout } from './dropout';
import { flatten } from './flatten';
import { globalAveragePooling2d } from './global-average-pooling2d';
import type { SpecOf } from './layer-definition';
import { maxPooling2d } from './max-pooling2d';

/**
 * Every layer type a model spec may use, listed once: validation, shape flow, generated names and
 * building all read this table. Add a type by writing its module and listing it here.
 *
 * @internal
 */
export const ALL_LAYERS = [
  conv2d,
  maxPooling2d,
  batchNormalization,
  dropout,
  flatten,
  globalAveragePooling2d,
  dense,
  activation,
] as const;

/** One layer of a {@link ModelSpec}. */
export type LayerSpec = SpecOf<(typeof ALL_LAYERS)[number]>;

/** The layer types a {@link ModelSpec} may use. */
export type LayerType = LayerSpec['type'];

const BY_TYPE: ReadonlyMap<string, (typeof ALL_LAYERS)[number]> = new Map(
  ALL_LAYERS.map((d) => [d.type, d]),
);

/**
 * The definition of a layer type, or undefined for an unknown type.
 *
 * @internal
 */
export function layerDefinition(type: string): (typeof ALL_LAYERS)[number] | undefined {
  return BY_TYPE.get(type);
}
