import { describe, expect, it } from 'vitest';
import { initRuntime, tf } from '../src/index';

// Its own file: vitest runs each file in a fresh worker, and the wasm module (with its thread
// count) is created once per process.
describe('initRuntime with wasm threads', () => {
  it('starts the threaded wasm module when threads are asked for, and trains on it', async () => {
    const info = await initRuntime({ backend: 'wasm', threads: 2, env: {} });
    expect(info.backend).toBe('wasm');
    expect(info.threads).toBe(2);
    expect(info.reason).toMatch(/using wasm \((no )?SIMD, 2 threads\)$/);
    expect(info.kernels).toContain('Conv2DBackpropFilter');

    // Asking again for another count cannot change a running module: the reason says so.
    const again = await initRuntime({ backend: 'wasm', threads: 4, env: {} });
    expect(again.threads).toBe(2);

    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const x = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 1);
    const y = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 16 }, (_, i) => i % 2),
        'int32',
      ),
      2,
    );
    const before = model.getWeights()[0]!.dataSync().slice();
    const history = await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    expect(Number.isFinite(history.history['loss']![0] as number)).toBe(true);
    const after = model.getWeights()[0]!.dataSync();
    expect(after.some((v, i) => v !== before[i])).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });
});
