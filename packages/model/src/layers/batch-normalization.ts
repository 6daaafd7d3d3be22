import { tf } from '@mlship/tf';
import { fail, fraction, optional } from './fields';
import type { LayerDefinition, LayerSpecBase } from './layer-definition';

/** Batch normalisation over the last axis (`tf.layers.batchNormalization`). */
export interface BatchNormalizationLayerSpec extends LayerSpecBase {
  type: 'batchNormalization';
  /** Moving-average momentum in (0, 1) (default 0.99). */
  momentum?: number;
  /** Variance epsilon > 0 (default 0.001). */
  epsilon?: number;
}

function positiveNumber(value: unknown, path: string): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value))
    fail(path, 'a positive number', value);
  return value;
}

/** @internal */
export const batchNormalization: LayerDefinition<BatchNormalizationLayerSpec> = {
  type: 'batchNormalization',
  keys: ['type', 'name', 'momentum', 'epsilon'],
  namePrefix: 'bn',
  endsFeatures: false,
  outputShape(layer, { path, input }) {
    optional(layer, 'momentum', (v, p) => fraction(v, p, false, 'a number in (0, 1)'), path);
    optional(layer, 'epsilon', positiveNumber, path);
    return [...input];
  },
  build: (spec, { name }) =>
    tf.layers.batchNormalization({
      name,
      axis: -1,
      momentum: spec.momentum ?? 0.99,
      epsilon: spec.epsilon ?? 0.001,
    }),
};
