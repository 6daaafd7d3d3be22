import { tf } from '@mlship/tf';
import type { LayerDefinition, LayerSpecBase } from './layer-definition';
import { requireSpatial } from './layer-definition';

/** Averages each channel over space; ends the feature part like `flatten`. */
export interface GlobalAveragePooling2dLayerSpec extends LayerSpecBase {
  type: 'globalAveragePooling2d';
}

/** @internal */
export const globalAveragePooling2d: LayerDefinition<GlobalAveragePooling2dLayerSpec> = {
  type: 'globalAveragePooling2d',
  keys: ['type', 'name'],
  namePrefix: 'gap',
  endsFeatures: true,
  outputShape(_layer, context) {
    requireSpatial('globalAveragePooling2d', context);
    return [context.input[2]!];
  },
  build: (_spec, { name }) => tf.layers.globalAveragePooling2d({ name }),
};
