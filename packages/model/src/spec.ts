import { ModelError } from './errors';

/** Activation functions a layer may use (a subset of TensorFlow.js' names that every backend runs). */
export type ActivationName =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'elu'
  | 'selu'
  | 'sigmoid'
  | 'tanh'
  | 'softmax'
  | 'softplus'
  | 'swish';

/**
 * The activation names {@link validateSpec} accepts.
 *
 * @example
 * ```ts
 * if (!ACTIVATIONS.includes(name as ActivationName)) throw new Error(`unknown activation ${name}`);
 * ```
 */
export const ACTIVATIONS: readonly ActivationName[] = [
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'tanh',
  'softmax',
  'softplus',
  'swish',
];

/**
 * What the model expects as input: an `[height, width, channels]` image whose values are
 * `raw pixel (0..255) * scale + offset`. The same object is written to `mlship.json` `input`.
 */
export interface InputSpec {
  /** `[height, width, channels]` of one image. */
  shape: [number, number, number];
  /** Always `'float32'` (the tensor dtype the model takes). */
  dtype: 'float32';
  /** Multiplier applied to raw 0..255 pixels (default in builders: `1 / 255`). */
  scale: number;
  /** Added after scaling (default in builders: `0`). */
  offset: number;
}

/** A size given as one number (square) or `[height, width]`. */
export type Size2D = number | [number, number];

/** Fields every layer spec may carry. */
interface LayerSpecBase {
  /**
   * Stable layer name. Must start with `features_` for layers up to and including the first
   * `flatten`/`globalAveragePooling2d`, and with `head_` after it; generated when omitted
   * (`features_conv1`, `features_pool1`, `head_dense1`, `head_output`, ...).
   */
  name?: string;
}

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

/** Batch normalisation over the last axis (`tf.layers.batchNormalization`). */
export interface BatchNormalizationLayerSpec extends LayerSpecBase {
  type: 'batchNormalization';
  /** Moving-average momentum in (0, 1) (default 0.99). */
  momentum?: number;
  /** Variance epsilon > 0 (default 0.001). */
  epsilon?: number;
}

/** Dropout during training (`tf.layers.dropout`). Not seeded: TensorFlow.js reuses one mask per seed. */
export interface DropoutLayerSpec extends LayerSpecBase {
  type: 'dropout';
  /** Fraction of units dropped, in [0, 1). */
  rate: number;
}

/** Flattens `[h, w, c]` to `[h * w * c]`; ends the feature part. */
export interface FlattenLayerSpec extends LayerSpecBase {
  type: 'flatten';
}

/** Averages each channel over space; ends the feature part like `flatten`. */
export interface GlobalAveragePooling2dLayerSpec extends LayerSpecBase {
  type: 'globalAveragePooling2d';
}

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

/** A standalone activation (`tf.layers.activation`). */
export interface ActivationLayerSpec extends LayerSpecBase {
  type: 'activation';
  /** The activation function. */
  activation: ActivationName;
}

/** One layer of a {@link ModelSpec}. */
export type LayerSpec =
  | Conv2dLayerSpec
  | MaxPooling2dLayerSpec
  | BatchNormalizationLayerSpec
  | DropoutLayerSpec
  | FlattenLayerSpec
  | GlobalAveragePooling2dLayerSpec
  | DenseLayerSpec
  | ActivationLayerSpec;

/** The layer types a {@link ModelSpec} may use. */
export type LayerType = LayerSpec['type'];

/**
 * A declarative, JSON-serialisable description of an image classifier: input, ordered layers,
 * number of classes. The model's output must be a softmax over `classes` (the last layer is a
 * `dense` with `units: classes` and `activation: 'softmax'`, or a linear `dense(classes)` followed
 * by `activation: 'softmax'`).
 */
export interface ModelSpec {
  /** Model name, `[a-z0-9][a-z0-9._-]*` (used as the tf model name and the default `mlship.json` name). */
  name: string;
  /** What one input image looks like and how raw pixels are scaled. */
  input: InputSpec;
  /** The layers in order. */
  layers: LayerSpec[];
  /** Number of output classes (>= 2). */
  classes: number;
}

/** A layer of a validated spec with its resolved name and shapes (internal view used by the builder). */
export interface ResolvedLayer {
  /** Index in `spec.layers`. */
  index: number;
  /** The stable name (given or generated). */
  name: string;
  /** `'features'` up to and including the first flatten/globalAveragePooling2d, `'head'` after. */
  part: ModelPart;
  /** The layer spec. */
  spec: LayerSpec;
  /** Shape of one example entering the layer (no batch axis). */
  inputShape: number[];
  /** Shape of one example leaving the layer (no batch axis). */
  outputShape: number[];
}

/** The two named parts of a model: the convolutional feature extractor and the classifier head. */
export type ModelPart = 'features' | 'head';

const NAME_RE = /^[a-z0-9][a-z0-9._-]*$/;
const LAYER_NAME_RE = /^(features|head)_[a-z0-9][a-z0-9_]*$/;
const LAYER_TYPES: readonly LayerType[] = [
  'conv2d',
  'maxPooling2d',
  'batchNormalization',
  'dropout',
  'flatten',
  'globalAveragePooling2d',
  'dense',
  'activation',
];

const ALLOWED_KEYS: Record<LayerType, readonly string[]> = {
  conv2d: ['type', 'name', 'filters', 'kernelSize', 'strides', 'padding', 'activation', 'useBias'],
  maxPooling2d: ['type', 'name', 'poolSize', 'strides', 'padding'],
  batchNormalization: ['type', 'name', 'momentum', 'epsilon'],
  dropout: ['type', 'name', 'rate'],
  flatten: ['type', 'name'],
  globalAveragePooling2d: ['type', 'name'],
  dense: ['type', 'name', 'units', 'activation', 'useBias'],
  activation: ['type', 'name', 'activation'],
};

function fail(path: string, expected: string, got: unknown): never {
  throw new ModelError('INVALID_SPEC', `${path}: expected ${expected}, got ${show(got)}`, {
    data: { path },
  });
}

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    fail(path, 'a positive integer', value);
  return value;
}

function size2d(value: unknown, path: string): [number, number] {
  if (typeof value === 'number') return [positiveInt(value, path), value];
  if (Array.isArray(value) && value.length === 2) {
    return [positiveInt(value[0], `${path}[0]`), positiveInt(value[1], `${path}[1]`)];
  }
  return fail(path, 'a positive integer or [height, width]', value);
}

function optional<T>(
  obj: Record<string, unknown>,
  key: string,
  check: (v: unknown, p: string) => T,
  path: string,
): T | undefined {
  return obj[key] === undefined ? undefined : check(obj[key], `${path}.${key}`);
}

function activation(value: unknown, path: string): ActivationName {
  if (typeof value !== 'string' || !(ACTIVATIONS as readonly string[]).includes(value)) {
    fail(path, `one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as ActivationName;
}

function padding(value: unknown, path: string): 'valid' | 'same' {
  if (value !== 'valid' && value !== 'same') fail(path, "'valid' or 'same'", value);
  return value;
}

function bool(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, 'a boolean', value);
  return value;
}

function fraction(value: unknown, path: string, inclusiveZero: boolean, what: string): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value >= 1 ||
    value < 0 ||
    (!inclusiveZero && value === 0)
  ) {
    fail(path, what, value);
  }
  return value;
}

/** Output length of a convolution/pooling window along one axis (Keras semantics). */
function windowOut(size: number, window: number, stride: number, pad: 'valid' | 'same'): number {
  return pad === 'same' ? Math.ceil(size / stride) : Math.floor((size - window) / stride) + 1;
}

const GENERATED_PREFIX: Record<LayerType, string> = {
  conv2d: 'conv',
  maxPooling2d: 'pool',
  batchNormalization: 'bn',
  dropout: 'dropout',
  flatten: 'flatten',
  globalAveragePooling2d: 'gap',
  dense: 'dense',
  activation: 'act',
};

/**
 * Checks a spec (typically parsed JSON) field by field and resolves layer names and shapes.
 *
 * @internal Used by {@link validateSpec} and the builder.
 */
export function resolveSpec(value: unknown): { spec: ModelSpec; layers: ResolvedLayer[] } {
  if (!isRecord(value)) fail('spec', 'an object', value);
  for (const key of Object.keys(value)) {
    if (!['name', 'input', 'layers', 'classes'].includes(key))
      fail(key, 'no such field (name, input, layers, classes)', value[key]);
  }
  const name = value['name'];
  if (typeof name !== 'string' || !NAME_RE.test(name))
    fail('name', 'a name matching [a-z0-9][a-z0-9._-]*', name);

  const input = value['input'];
  if (!isRecord(input)) fail('input', 'an object {shape, dtype, scale, offset}', input);
  const shape = input['shape'];
  if (!Array.isArray(shape) || shape.length !== 3)
    fail('input.shape', '[height, width, channels]', shape);
  shape.forEach((d, i) => positiveInt(d, `input.shape[${i}]`));
  if (input['dtype'] !== 'float32') fail('input.dtype', "'float32'", input['dtype']);
  for (const key of ['scale', 'offset'] as const) {
    const v = input[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`input.${key}`, 'a finite number', v);
  }
  if (input['scale'] === 0) fail('input.scale', 'a non-zero number', 0);

  const classes = value['classes'];
  if (typeof classes !== 'number' || !Number.isInteger(classes) || classes < 2)
    fail('classes', 'an integer >= 2', classes);

  const layers = value['layers'];
  if (!Array.isArray(layers) || layers.length === 0)
    fail('layers', 'a non-empty array of layer specs', layers);

  const resolved: ResolvedLayer[] = [];
  const names = new Set<string>();
  const counters = new Map<string, number>();
  let current: number[] = [...(shape as number[])];
  let part: ModelPart = 'features';
  layers.forEach((layer: unknown, index: number) => {
    const path = `layers[${index}]`;
    if (!isRecord(layer)) fail(path, 'a layer spec object', layer);
    const type = layer['type'];
    if (typeof type !== 'string' || !(LAYER_TYPES as readonly string[]).includes(type)) {
      fail(`${path}.type`, `one of ${LAYER_TYPES.map((t) => `'${t}'`).join(', ')}`, type);
    }
    const t = type as LayerType;
    for (const key of Object.keys(layer)) {
      if (layer[key] !== undefined && !ALLOWED_KEYS[t].includes(key))
        fail(
          `${path}.${key}`,
          `no such field for '${t}' (${ALLOWED_KEYS[t].join(', ')})`,
          layer[key],
        );
    }
    const spatial = current.length === 3;
    const inputShape = current;
    const needSpatial = (): void => {
      if (!spatial)
        fail(
          `${path}.type`,
          `a layer that takes a flat input (the input to '${t}' is [${current.join(', ')}]; '${t}' needs [height, width, channels])`,
          t,
        );
    };
    switch (t) {
      case 'conv2d': {
        needSpatial();
        const filters = positiveInt(layer['filters'], `${path}.filters`);
        const [kh, kw] = size2d(layer['kernelSize'], `${path}.kernelSize`);
        const [sh, sw] = optional(layer, 'strides', size2d, path) ?? [1, 1];
        const pad = optional(layer, 'padding', padding, path) ?? 'valid';
        optional(layer, 'activation', activation, path);
        optional(layer, 'useBias', bool, path);
        if (pad === 'valid' && (kh > current[0]! || kw > current[1]!)) {
          fail(
            `${path}.kernelSize`,
            `at most ${current[0]}x${current[1]} (the input to this layer is ${current.join('x')})`,
            layer['kernelSize'],
          );
        }
        current = [
          windowOut(current[0]!, kh, sh, pad),
          windowOut(current[1]!, kw, sw, pad),
          filters,
        ];
        break;
      }
      case 'maxPooling2d': {
        needSpatial();
        const [ph, pw] = size2d(layer['poolSize'], `${path}.poolSize`);
        const [sh, sw] = optional(layer, 'strides', size2d, path) ?? [ph, pw];
        const pad = optional(layer, 'padding', padding, path) ?? 'valid';
        if (pad === 'valid' && (ph > current[0]! || pw > current[1]!)) {
          fail(
            `${path}.poolSize`,
            `at most ${current[0]}x${current[1]} (the input to this layer is ${current.join('x')})`,
            layer['poolSize'],
          );
        }
        current = [
          windowOut(current[0]!, ph, sh, pad),
          windowOut(current[1]!, pw, sw, pad),
          current[2]!,
        ];
        break;
      }
      case 'batchNormalization':
        optional(layer, 'momentum', (v, p) => fraction(v, p, false, 'a number in (0, 1)'), path);
        optional(
          layer,
          'epsilon',
          (v, p) => {
            if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))
              fail(p, 'a positive number', v);
            return v;
          },
          path,
        );
        break;
      case 'dropout':
        fraction(layer['rate'], `${path}.rate`, true, 'a number in [0, 1)');
        break;
      case 'flatten':
        if (part === 'features') {
          if (!spatial)
            fail(
              `${path}.type`,
              `a layer that takes a flat input (the input is already flat: [${current.join(', ')}])`,
              t,
            );
        }
        current = [current.reduce((a, b) => a * b, 1)];
        break;
      case 'globalAveragePooling2d':
        needSpatial();
        current = [current[2]!];
        break;
      case 'dense': {
        if (spatial) {
          fail(
            `${path}.type`,
            `a layer that takes [height, width, channels] (the input to 'dense' is [${current.join(', ')}]; add a 'flatten' or 'globalAveragePooling2d' before it)`,
            t,
          );
        }
        const units = positiveInt(layer['units'], `${path}.units`);
        optional(layer, 'activation', activation, path);
        optional(layer, 'useBias', bool, path);
        current = [units];
        break;
      }
      case 'activation':
        activation(layer['activation'], `${path}.activation`);
        break;
    }
    const layerPart: ModelPart = part;
    if (t === 'flatten' || t === 'globalAveragePooling2d') part = 'head';

    let layerName: string;
    if (layer['name'] !== undefined) {
      const given = layer['name'];
      if (typeof given !== 'string' || !LAYER_NAME_RE.test(given)) {
        fail(`${path}.name`, `a name matching ${layerPart}_[a-z0-9][a-z0-9_]*`, given);
      }
      if (!given.startsWith(`${layerPart}_`)) {
        fail(
          `${path}.name`,
          `a name starting with '${layerPart}_' (this layer is in the ${layerPart} part)`,
          given,
        );
      }
      layerName = given;
    } else {
      const isOutput =
        index === layers.length - 1 ||
        (index === layers.length - 2 &&
          t === 'dense' &&
          isRecord(layers[index + 1]) &&
          (layers[index + 1] as Record<string, unknown>)['type'] === 'activation');
      if (isOutput && t === 'dense') layerName = 'head_output';
      else if (isOutput && t === 'activation') layerName = 'head_softmax';
      else {
        const key = `${layerPart}_${GENERATED_PREFIX[t]}`;
        const n = (counters.get(key) ?? 0) + 1;
        counters.set(key, n);
        layerName = t === 'flatten' || t === 'globalAveragePooling2d' ? key : `${key}${n}`;
      }
    }
    if (names.has(layerName)) fail(`${path}.name`, 'a name no other layer uses', layerName);
    names.add(layerName);
    resolved.push({
      index,
      name: layerName,
      part: layerPart,
      spec: layer as unknown as LayerSpec,
      inputShape,
      outputShape: current,
    });
  });

  // The output must be a softmax distribution over `classes`.
  const last = resolved[resolved.length - 1]!;
  const lastPath = `layers[${last.index}]`;
  if (last.spec.type === 'dense') {
    if (last.spec.units !== classes)
      fail(`${lastPath}.units`, `${classes} (classes) for the output layer`, last.spec.units);
    if (last.spec.activation !== 'softmax')
      fail(`${lastPath}.activation`, "'softmax' for the output layer", last.spec.activation);
  } else if (last.spec.type === 'activation' && last.spec.activation === 'softmax') {
    const prev = resolved[resolved.length - 2];
    if (prev?.spec.type !== 'dense')
      fail(
        `${lastPath}.type`,
        "a 'dense' layer before the final softmax activation",
        prev?.spec.type,
      );
    if (prev.spec.units !== classes)
      fail(
        `layers[${prev.index}].units`,
        `${classes} (classes) for the output layer`,
        prev.spec.units,
      );
    if ((prev.spec.activation ?? 'linear') !== 'linear')
      fail(
        `layers[${prev.index}].activation`,
        "'linear' before the final softmax",
        prev.spec.activation,
      );
  } else {
    fail(
      `${lastPath}.type`,
      `'dense' with ${classes} units and softmax activation as the output layer`,
      last.spec.type,
    );
  }
  return { spec: value as unknown as ModelSpec, layers: resolved };
}

/**
 * Validates a model spec (for instance parsed from JSON) and returns it typed.
 *
 * Checks every field and the shape flow through the layers (a kernel larger than its input, a
 * `dense` on a spatial input, an output that is not a softmax over `classes`, ...).
 *
 * @param value - the candidate spec
 * @returns the same object, typed as {@link ModelSpec}
 * @throws {@link ModelError} `INVALID_SPEC`, message `<path>: expected <what>, got <value>` and `data.path`
 * @example
 * ```ts
 * validateSpec({ ...modelASpec(), layers: [{ type: 'conv2d', filters: -3, kernelSize: 3 }] });
 * // ModelError: layers[0].filters: expected a positive integer, got -3
 * ```
 */
export function validateSpec(value: unknown): ModelSpec {
  return resolveSpec(value).spec;
}

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
