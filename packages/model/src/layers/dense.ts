import { tf } from '@mlship/tf';
import type { ActivationName } from './fields';
import { activation, bool, fail, optional, positiveInt } from './fields';
import type { LayerDefinition, LayerSpecBase } from './layer-definition';

/** A fully connected layer (`tf.layers.dense`); needs a flat input. */
export interface DenseLayerSpec extends LayerSpecBase {
  type: 'dense';
  /** Output units (positive integer). */
  units: number;
  /** Activation (default `'linear'`). */
  activation?: ActivationName;
  /** Whether to add a bias (default true). */
  useBias?: boolean;
}

/** @internal */
export const dense: LayerDefinition<DenseLayerSpec> = {
  type: 'dense',
  keys: ['type', 'name', 'units', 'activation', 'useBias'],
  namePrefix: 'dense',
  endsFeatures: false,
  outputShape(layer, { path, input }) {
    if (input.length === 3) {
      fail(
        `${path}.type`,
        `a layer that takes [height, width, channels] (the input to 'dense' is [${input.join(', ')}]; add a 'flatten' or 'globalAveragePooling2d' before it)`,
        'dense',
      );
    }
    const units = positiveInt(layer['units'], `${path}.units`);
    optional(layer, 'activation', activation, path);
    optional(layer, 'useBias', bool, path);
    return [units];
  },
  build: (spec, { name, seed }) =>
    tf.layers.dense({
      name,
      units: spec.units,
      activation: spec.activation ?? 'linear',
      useBias: spec.useBias ?? true,
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
      biasInitializer: 'zeros',
    }),
};
