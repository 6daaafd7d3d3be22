import { tf } from '@mlship/tf';
import type { ActivationName } from './fields';
import { activation as activationName } from './fields';
import type { LayerDefinition, LayerSpecBase } from './layer-definition';

/** A standalone activation (`tf.layers.activation`). */
export interface ActivationLayerSpec extends LayerSpecBase {
  type: 'activation';
  /** The activation function. */
  activation: ActivationName;
}

/** @internal */
export const activation: LayerDefinition<ActivationLayerSpec> = {
  type: 'activation',
  keys: ['type', 'name', 'activation'],
  namePrefix: 'act',
  endsFeatures: false,
  outputShape(layer, { path, input }) {
    activationName(layer['activation'], `${path}.activation`);
    return [...input];
  },
  build: (spec, { name }) => tf.layers.activation({ name, activation: spec.activation }),
};
