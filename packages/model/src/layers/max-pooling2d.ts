import { tf } from '@mlship/tf';
import type { Size2D } from './fields';
import { fail, optional, padding, pair, size2d, windowOut } from './fields';
import type { LayerDefinition, LayerSpecBase } from './layer-definition';
import { requireSpatial } from './layer-definition';

/** Max pooling (`tf.layers.maxPooling2d`). */
export interface MaxPooling2dLayerSpec extends LayerSpecBase {
  type: 'maxPooling2d';
  /** Pool size. */
  poolSize: Size2D;
  /** Strides (default: the pool size). */
  strides?: Size2D;
  /** Padding (default `'valid'`). */
  padding?: 'valid' | 'same';
}

/** @internal */
export const maxPooling2d: LayerDefinition<MaxPooling2dLayerSpec> = {
  type: 'maxPooling2d',
  keys: ['type', 'name', 'poolSize', 'strides', 'padding'],
  namePrefix: 'pool',
  endsFeatures: false,
  outputShape(layer, context) {
    const { path, input } = context;
    requireSpatial('maxPooling2d', context);
    const [ph, pw] = size2d(layer['poolSize'], `${path}.poolSize`);
    const [sh, sw] = optional(layer, 'strides', size2d, path) ?? [ph, pw];
    const pad = optional(layer, 'padding', padding, path) ?? 'valid';
    if (pad === 'valid' && (ph > input[0]! || pw > input[1]!)) {
      fail(
        `${path}.poolSize`,
        `at most ${input[0]}x${input[1]} (the input to this layer is ${input.join('x')})`,
        layer['poolSize'],
      );
    }
    return [windowOut(input[0]!, ph, sh, pad), windowOut(input[1]!, pw, sw, pad), input[2]!];
  },
  build: (spec, { name }) =>
    tf.layers.maxPooling2d({
      name,
      poolSize: pair(spec.poolSize),
      strides: pair(spec.strides ?? spec.poolSize),
      padding: spec.padding ?? 'valid',
    }),
};
