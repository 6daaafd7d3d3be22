import type { ActivationName } from './layers/fields';
import type { LayerSpec } from './layers/all-layers';
import type { Conv2dLayerSpec } from './layers/conv2d';
import type { InputSpec } from '@mlship/core';
import type { ModelSpec } from './spec';
import { checkOptionKeys, keysOf } from './internal/options';
import { validateSpec } from './spec';

/** Options of {@link defaultCnnSpec}; every field has a default that yields "model A". */
export interface DefaultCnnOptions {
  /** Model name (default `'cnn'`). */
  name?: string;
  /** Input spec (default MNIST: `[28, 28, 1]`, scale `1 / 255`, offset 0). */
  input?: Partial<InputSpec>;
  /** Number of classes (default 10). */
  classes?: number;
  /** Filters of each conv block, one block per entry (default `[32, 64]`). */
  convFilters?: number[];
  /** Convolutions per block (default 1). */
  convsPerBlock?: number;
  /** Conv kernel size (default 3). */
  kernelSize?: number;
  /** Conv padding (default `'valid'`). */
  padding?: 'valid' | 'same';
  /** Max-pool size after each block (default 2). */
  poolSize?: number;
  /** Batch normalisation after every conv, before its activation (default false). */
  batchNorm?: boolean;
  /** Dropout rate after each conv block, 0 for none (default 0). */
  featureDropout?: number;
  /** Units of the hidden dense layers of the head (default `[128]`). */
  denseUnits?: number[];
  /** Dropout rate after each hidden dense layer of the head, 0 for none (default 0). */
  headDropout?: number;
  /** Hidden activation (default `'relu'`). */
  activation?: ActivationName;
}

const DEFAULT_CNN_OPTION_KEYS = keysOf<DefaultCnnOptions>({
  name: true,
  input: true,
  classes: true,
  convFilters: true,
  convsPerBlock: true,
  kernelSize: true,
  padding: true,
  poolSize: true,
  batchNorm: true,
  featureDropout: true,
  denseUnits: true,
  headDropout: true,
  activation: true,
});

/**
 * Builds the spec of the default CNN: conv blocks (conv -> [bn] -> activation -> maxpool -> [dropout]),
 * flatten, then a dense head ending in `dense(classes, softmax)`. With no options this is
 * "model A": conv2d(32, 3x3, relu) -> maxpool 2 -> conv2d(64, 3x3, relu) -> maxpool 2 -> flatten ->
 * dense(128, relu) -> dense(10, softmax), with layers `features_conv1`, `features_pool1`,
 * `features_conv2`, `features_pool2`, `features_flatten`, `head_dense1`, `head_output`.
 *
 * @param options - see {@link DefaultCnnOptions}
 * @returns a JSON-serialisable, validated {@link ModelSpec}
 * @throws {@link ModelError} `INVALID_SPEC` when the options give an impossible model (e.g. too many pools for the input)
 * @example
 * ```ts
 * const spec = defaultCnnSpec({ convFilters: [32, 64, 128], padding: 'same', batchNorm: true, headDropout: 0.5 });
 * ```
 */
export function defaultCnnSpec(options: DefaultCnnOptions = {}): ModelSpec {
  checkOptionKeys(options, DEFAULT_CNN_OPTION_KEYS, 'defaultCnnSpec options');
  checkOptionKeys(options.input, ['shape', 'dtype', 'scale', 'offset'], 'input');
  const input: InputSpec = {
    shape: options.input?.shape ? [...options.input.shape] : [28, 28, 1],
    dtype: 'float32',
    scale: options.input?.scale ?? 1 / 255,
    offset: options.input?.offset ?? 0,
  };
  const act = options.activation ?? 'relu';
  const kernelSize = options.kernelSize ?? 3;
  const padding = options.padding ?? 'valid';
  const convsPerBlock = options.convsPerBlock ?? 1;
  const layers: LayerSpec[] = [];
  let conv = 0;
  let bn = 0;
  let act_ = 0;
  (options.convFilters ?? [32, 64]).forEach((filters, block) => {
    for (let i = 0; i < convsPerBlock; i++) {
      conv += 1;
      const layer: Conv2dLayerSpec = {
        type: 'conv2d',
        name: `features_conv${conv}`,
        filters,
        kernelSize,
      };
      if (padding !== 'valid') layer.padding = padding;
      if (options.batchNorm) {
        layer.useBias = false;
        layers.push(layer);
        bn += 1;
        act_ += 1;
        layers.push({ type: 'batchNormalization', name: `features_bn${bn}` });
        layers.push({ type: 'activation', name: `features_act${act_}`, activation: act });
      } else {
        layer.activation = act;
        layers.push(layer);
      }
    }
    layers.push({
      type: 'maxPooling2d',
      name: `features_pool${block + 1}`,
      poolSize: options.poolSize ?? 2,
    });
    if ((options.featureDropout ?? 0) > 0) {
      layers.push({
        type: 'dropout',
        name: `features_dropout${block + 1}`,
        rate: options.featureDropout!,
      });
    }
  });
  layers.push({ type: 'flatten', name: 'features_flatten' });
  (options.denseUnits ?? [128]).forEach((units, i) => {
    layers.push({ type: 'dense', name: `head_dense${i + 1}`, units, activation: act });
    if ((options.headDropout ?? 0) > 0) {
      layers.push({ type: 'dropout', name: `head_dropout${i + 1}`, rate: options.headDropout! });
    }
  });
  const classes = options.classes ?? 10;
  layers.push({ type: 'dense', name: 'head_output', units: classes, activation: 'softmax' });
  return validateSpec({ name: options.name ?? 'cnn', input, layers, classes });
}

/**
 * "Model A" of the thesis: conv2d(32, 3x3, relu) -> maxpool 2 -> conv2d(64, 3x3, relu) -> maxpool 2
 * -> flatten -> dense(128, relu) -> dense(10, softmax) on 28x28x1 inputs scaled by 1/255.
 *
 * @param classes - number of classes (default 10)
 * @returns the spec, equal to `defaultCnnSpec({ name: 'model-a', classes })`
 * @throws {@link ModelError} `INVALID_SPEC` when `classes` is not a positive integer
 * @example
 * ```ts
 * const model = buildModel(modelASpec(), { seed: 1 });
 * ```
 */
export function modelASpec(classes = 10): ModelSpec {
  return defaultCnnSpec({ name: 'model-a', classes });
}
