import { tf } from '@mlship/tf';
import type { ActivationName, Size2D } from './fields';
import {
  activation,
  bool,
  fail,
  optional,
  padding,
  pair,
  positiveInt,
  size2d,
  windowOut,
} from './fields';
import type { LayerDefinition, LayerSpecBase } from './layer-definition';
import { requireSpatial } from './layer-definition';

/** A 2-D convolution (`tf.layers.conv2d`). */
export interface Conv2dLayerSpec extends LayerSpecBase {
  type: 'conv2d';
  /** Number of output channels (positive integer). */
  filters: number;
  /** Kernel size. */
  kernelSize: Size2D;
  /** Strides (default 1). */
  strides?: Size2D;
  /** Padding (default `'valid'`). */
  padding?: 'valid' | 'same';
  /** Activation (default `'linear'`). */
  activation?: ActivationName;
  /** Whether to add a bias (default true). */
  useBias?: boolean;
}

/** @internal */
export const conv2d: LayerDefinition<Conv2dLayerSpec> = {
  type: 'conv2d',
  keys: ['type', 'name', 'filters', 'kernelSize', 'strides', 'padding', 'activation', 'useBias'],
  namePrefix: 'conv',
  endsFeatures: false,
  outputShape(layer, context) {
    const { path, input } = context;
    requireSpatial('conv2d', context);
    const filters = positiveInt(layer['filters'], `${path}.filters`);
    const [kh, kw] = size2d(layer['kernelSize'], `${path}.kernelSize`);
    const [sh, sw] = optional(layer, 'strides', size2d, path) ?? [1, 1];
    const pad = optional(layer, 'padding', padding, path) ?? 'valid';
    optional(layer, 'activation', activation, path);
    optional(layer, 'useBias', bool, path);
    if (pad === 'valid' && (kh > input[0]! || kw > input[1]!)) {
      fail(
        `${path}.kernelSize`,
        `at most ${input[0]}x${input[1]} (the input to this layer is ${input.join('x')})`,
        layer['kernelSize'],
      );
    }
    return [windowOut(input[0]!, kh, sh, pad), windowOut(input[1]!, kw, sw, pad), filters];
  },
  build: (spec, { name, seed }) =>
    tf.layers.conv2d({
      name,
      filters: spec.filters,
      kernelSize: pair(spec.kernelSize),
      strides: pair(spec.strides ?? 1),
      padding: spec.padding ?? 'valid',
      activation: spec.activation ?? 'linear',
      useBias: spec.useBias ?? true,
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
      biasInitializer: 'zeros',
    }),
};
