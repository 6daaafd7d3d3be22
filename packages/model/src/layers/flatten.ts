import { tf } from '@mlship/tf';
import { fail } from './fields';
import type { LayerDefinition, LayerSpecBase } from './layer-definition';

/** Flattens `[h, w, c]` to `[h * w * c]`; ends the feature part. */
export interface FlattenLayerSpec extends LayerSpecBase {
  type: 'flatten';
}

/** @internal */
export const flatten: LayerDefinition<FlattenLayerSpec> = {
  type: 'flatten',
  keys: ['type', 'name'],
  namePrefix: 'flatten',
  endsFeatures: true,
  outputShape(_layer, { path, input, part }) {
    // In the head a flatten of a flat input is a harmless no-op; the one ending the features must
    // see the spatial input it is there to flatten.
    if (part === 'features' && input.length !== 3)
      fail(
        `${path}.type`,
        `a layer that takes a flat input (the input is already flat: [${input.join(', ')}])`,
        'flatten',
      );
    return [input.reduce((a, b) => a * b, 1)];
  },
  build: (_spec, { name }) => tf.layers.flatten({ name }),
};
