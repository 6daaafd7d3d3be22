import { initRuntime, tf } from '@mlship/tf';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayerSpec } from './all-layers';
import { ALL_LAYERS, layerDefinition } from './all-layers';
import type { LayerDefinition } from './layer-definition';

beforeAll(async () => {
  await initRuntime();
});

// One example per layer type, with non-default fields where it has any.
const EXAMPLES: readonly [LayerSpec, number[]][] = [
  [{ type: 'conv2d', filters: 3, kernelSize: [3, 2], strides: 2, padding: 'same' }, [9, 7, 2]],
  [{ type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu', useBias: false }, [9, 7, 2]],
  [{ type: 'maxPooling2d', poolSize: 2, strides: [1, 2] }, [9, 7, 2]],
  [{ type: 'maxPooling2d', poolSize: [3, 2], padding: 'same' }, [9, 7, 2]],
  [{ type: 'batchNormalization', momentum: 0.9, epsilon: 0.01 }, [9, 7, 2]],
  [{ type: 'dropout', rate: 0.5 }, [12]],
  [{ type: 'flatten' }, [9, 7, 2]],
  [{ type: 'globalAveragePooling2d' }, [9, 7, 2]],
  [{ type: 'dense', units: 5, activation: 'tanh' }, [12]],
  [{ type: 'activation', activation: 'softmax' }, [12]],
];

describe('the layer table', () => {
  it('lists every layer type once, each with its type and name among its keys', () => {
    const types = ALL_LAYERS.map((d) => d.type);
    expect(new Set(types).size).toBe(types.length);
    expect(new Set(EXAMPLES.map(([s]) => s.type))).toEqual(new Set(types));
    for (const d of ALL_LAYERS) {
      expect(d.keys.slice(0, 2)).toEqual(['type', 'name']);
      expect(layerDefinition(d.type)).toBe(d);
    }
    expect(layerDefinition('lstm')).toBeUndefined();
  });

  it.each(EXAMPLES)(
    'validates %o and predicts the output shape TensorFlow.js builds',
    (spec, input) => {
      const definition = layerDefinition(spec.type) as LayerDefinition<LayerSpec>;
      const predicted = definition.outputShape(spec as unknown as Record<string, unknown>, {
        path: 'layers[0]',
        input,
        part: 'features',
      });
      const layer = definition.build(spec, { name: 'features_x', seed: 1 });
      expect(layer.name).toBe('features_x');
      const out = layer.apply(tf.input({ shape: input })) as tf.SymbolicTensor;
      expect(out.shape).toEqual([null, ...predicted]);
    },
  );
});
