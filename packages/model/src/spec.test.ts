import { describe, expect, it } from 'vitest';
import { isModelError } from './errors';
import type { ModelSpec } from './spec';
import { modelASpec } from './default-cnn';
import { validateSpec } from './spec';

const base = (): ModelSpec => modelASpec();

function withLayer(index: number, patch: Record<string, unknown>): unknown {
  const spec = base();
  spec.layers[index] = { ...spec.layers[index], ...patch } as never;
  return spec;
}

describe('validateSpec', () => {
  it.each([
    ['a non-object', 42, /^spec: expected an object, got 42$/],
    ['an unknown top-level key', { ...base(), extra: 1 }, /^extra: expected no such field/],
    [
      'a bad name',
      { ...base(), name: 'My Model' },
      /^name: expected a name matching .*, got "My Model"$/,
    ],
    [
      'a 2-d input shape',
      { ...base(), input: { ...base().input, shape: [28, 28] } },
      /^input\.shape: expected \[height, width, channels\], got \[28,28\]$/,
    ],
    [
      'a zero input dimension',
      { ...base(), input: { ...base().input, shape: [28, 0, 1] } },
      /^input\.shape\[1\]: expected a positive integer, got 0$/,
    ],
    [
      'a zero scale',
      { ...base(), input: { ...base().input, scale: 0 } },
      /^input\.scale: expected a non-zero number, got 0$/,
    ],
    [
      'a wrong dtype',
      { ...base(), input: { ...base().input, dtype: 'int32' } },
      /^input\.dtype: expected 'float32', got "int32"$/,
    ],
    [
      'a name the registry would refuse',
      { ...base(), name: 'cnn-' },
      /^name: expected a name matching the model-name grammar \(.*\), got "cnn-"$/,
    ],
    ['one class', { ...base(), classes: 1 }, /^classes: expected an integer >= 2, got 1$/],
    [
      'no layers',
      { ...base(), layers: [] },
      /^layers: expected a non-empty array of layer specs, got \[\]$/,
    ],
    [
      'negative filters',
      withLayer(2, { filters: -3 }),
      /^layers\[2\]\.filters: expected a positive integer, got -3$/,
    ],
    [
      'fractional filters',
      withLayer(0, { filters: 1.5 }),
      /^layers\[0\]\.filters: expected a positive integer, got 1\.5$/,
    ],
    [
      'an unknown layer type',
      withLayer(1, { type: 'lstm' }),
      /^layers\[1\]\.type: expected one of 'conv2d', .*, got "lstm"$/,
    ],
    [
      'an unknown activation',
      withLayer(0, { activation: 'gelu2' }),
      /^layers\[0\]\.activation: expected one of 'linear', .*, got "gelu2"$/,
    ],
    [
      'a bad padding',
      withLayer(0, { padding: 'full' }),
      /^layers\[0\]\.padding: expected 'valid' or 'same', got "full"$/,
    ],
    [
      'an unknown layer field',
      withLayer(0, { units: 3 }),
      /^layers\[0\]\.units: expected no such field for 'conv2d'/,
    ],
    [
      'a bad kernel pair',
      withLayer(0, { kernelSize: [3, 0] }),
      /^layers\[0\]\.kernelSize\[1\]: expected a positive integer, got 0$/,
    ],
    [
      'a kernel larger than its input',
      withLayer(2, { kernelSize: 14 }),
      /^layers\[2\]\.kernelSize: expected at most 13x13 \(the input to this layer is 13x13x32\), got 14$/,
    ],
    [
      'a dropout rate of 1',
      withLayer(5, {
        type: 'dropout',
        rate: 1,
        units: undefined,
        activation: undefined,
        name: undefined,
      }),
      /layers\[5\]\.rate: expected a number in \[0, 1\), got 1$/,
    ],
    [
      'a dense layer on a spatial input',
      { ...base(), layers: [{ type: 'dense', units: 10, activation: 'softmax' }] },
      /^layers\[0\]\.type: expected a layer that takes \[height, width, channels\].*add a 'flatten'/,
    ],
    [
      'a conv after flatten',
      {
        ...base(),
        layers: [
          { type: 'flatten' },
          { type: 'conv2d', filters: 2, kernelSize: 1 },
          { type: 'dense', units: 10, activation: 'softmax' },
        ],
      },
      /^layers\[1\]\.type: expected a layer that takes a flat input/,
    ],
    [
      'an output with the wrong units',
      withLayer(6, { units: 9 }),
      /^layers\[6\]\.units: expected 10 \(classes\) for the output layer, got 9$/,
    ],
    [
      'an output without softmax',
      withLayer(6, { activation: 'relu' }),
      /^layers\[6\]\.activation: expected 'softmax' for the output layer, got "relu"$/,
    ],
    [
      'a features name in the head',
      withLayer(5, { name: 'features_dense' }),
      /^layers\[5\]\.name: expected a name starting with 'head_' \(this layer is in the head part\), got "features_dense"$/,
    ],
    [
      'a name with a slash',
      withLayer(0, { name: 'features/conv1' }),
      /^layers\[0\]\.name: expected a name matching features_\[a-z0-9\]\[a-z0-9_\]\*, got "features\/conv1"$/,
    ],
    [
      'a duplicate name',
      withLayer(2, { name: 'features_conv1' }),
      /^layers\[2\]\.name: expected a name no other layer uses, got "features_conv1"$/,
    ],
  ])('rejects %s', (_what, value, message) => {
    let caught: unknown;
    try {
      validateSpec(value);
    } catch (e) {
      caught = e;
    }
    expect(isModelError(caught)).toBe(true);
    expect((caught as Error).message).toMatch(message);
    expect((caught as { code: string }).code).toBe('INVALID_SPEC');
    expect(typeof (caught as { data: { path: string } }).data.path).toBe('string');
  });

  it('generates names when the spec omits them, and accepts a dense + softmax activation output', () => {
    const spec = validateSpec({
      name: 'gap-net',
      input: { shape: [8, 8, 3], dtype: 'float32', scale: 2 / 255, offset: -1 },
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: [3, 3], padding: 'same', strides: 1 },
        { type: 'batchNormalization', momentum: 0.9 },
        { type: 'activation', activation: 'relu' },
        { type: 'globalAveragePooling2d' },
        { type: 'dense', units: 3 },
        { type: 'activation', activation: 'softmax' },
      ],
      classes: 3,
    });
    expect(spec.layers).toHaveLength(6);
  });
});
