import { describe, expect, it } from 'vitest';
import { defaultCnnSpec, modelASpec } from './default-cnn';
import { validateSpec } from './spec';

describe('modelASpec / defaultCnnSpec', () => {
  it('describes model A with stable, part-prefixed layer names', () => {
    const spec = modelASpec();
    expect(spec.layers.map((l) => [l.type, l.name])).toEqual([
      ['conv2d', 'features_conv1'],
      ['maxPooling2d', 'features_pool1'],
      ['conv2d', 'features_conv2'],
      ['maxPooling2d', 'features_pool2'],
      ['flatten', 'features_flatten'],
      ['dense', 'head_dense1'],
      ['dense', 'head_output'],
    ]);
    expect(spec.layers[0]).toMatchObject({ filters: 32, kernelSize: 3, activation: 'relu' });
    expect(spec.layers[2]).toMatchObject({ filters: 64, kernelSize: 3, activation: 'relu' });
    expect(spec.layers[5]).toMatchObject({ units: 128, activation: 'relu' });
    expect(spec.layers[6]).toMatchObject({ units: 10, activation: 'softmax' });
    expect(spec.input).toEqual({ shape: [28, 28, 1], dtype: 'float32', scale: 1 / 255, offset: 0 });
    expect(defaultCnnSpec().layers).toEqual(spec.layers);
  });

  it('round-trips through JSON unchanged', () => {
    for (const spec of [
      modelASpec(),
      defaultCnnSpec({
        batchNorm: true,
        featureDropout: 0.25,
        headDropout: 0.5,
        padding: 'same',
        convFilters: [8, 16, 32],
      }),
    ]) {
      const copy: unknown = JSON.parse(JSON.stringify(spec));
      expect(copy).toStrictEqual(spec);
      expect(validateSpec(copy)).toStrictEqual(spec);
    }
  });

  it('builds batch-norm and dropout variants in the documented order', () => {
    const spec = defaultCnnSpec({
      convFilters: [8],
      batchNorm: true,
      featureDropout: 0.25,
      headDropout: 0.5,
      classes: 3,
    });
    expect(spec.layers.map((l) => l.name)).toEqual([
      'features_conv1',
      'features_bn1',
      'features_act1',
      'features_pool1',
      'features_dropout1',
      'features_flatten',
      'head_dense1',
      'head_dropout1',
      'head_output',
    ]);
    expect(spec.layers[0]).toMatchObject({ useBias: false });
    expect(spec.classes).toBe(3);
  });

  it('rejects impossible options with the field that broke', () => {
    expect(() => defaultCnnSpec({ convFilters: [8, 8, 8, 8] })).toThrow(
      /layers\[\d+\]\.(poolSize|kernelSize): expected at most/,
    );
  });
});
