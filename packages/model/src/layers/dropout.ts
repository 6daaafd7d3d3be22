import { tf } from '@mlship/tf';
import { fraction } from './fields';
import type { LayerDefinition, LayerSpecBase } from './layer-definition';

/** Dropout during training (`tf.layers.dropout`). Not seeded: TensorFlow.js reuses one mask per seed. */
export interface DropoutLayerSpec extends LayerSpecBase {
  type: 'dropout';
  /** Fraction of units dropped, in [0, 1). */
  rate: number;
}

/** @internal */
export const dropout: LayerDefinition<DropoutLayerSpec> = {
  type: 'dropout',
  keys: ['type', 'name', 'rate'],
  namePrefix: 'dropout',
  endsFeatures: false,
  outputShape(layer, { path, input }) {
    fraction(layer['rate'], `${path}.rate`, true, 'a number in [0, 1)');
    return [...input];
  },
  // No seed: TensorFlow.js' dropout with a fixed seed draws the same mask on every batch.
  build: (spec, { name }) => tf.layers.dropout({ name, rate: spec.rate }),
};
