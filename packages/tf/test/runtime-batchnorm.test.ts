import { beforeAll, describe, expect, it } from 'vitest';
import { initRuntime, patchBatchNormalization, tf } from '../src/index';

// Inputs far from the initial moving statistics (mean 0, variance 1): mean 10, std 2.
function data(): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const x = tf.add<tf.Tensor2D>(tf.mul(tf.randomNormal([64, 3], 0, 1, 'float32', 7), 2), 10);
  const y = tf.randomNormal<tf.Rank.R2>([64, 1], 0, 1, 'float32', 8);
  return { x, y };
}

function build(frozen: boolean): { model: tf.Sequential; bn: tf.layers.Layer } {
  const bn = tf.layers.batchNormalization({ inputShape: [3], momentum: 0.5 });
  bn.trainable = !frozen;
  const model = tf.sequential({
    layers: [bn, tf.layers.dense({ units: 1, kernelInitializer: 'ones' })],
  });
  // lr 0: weights do not move, so the only state fit can change is the BN statistics.
  model.compile({ optimizer: tf.train.sgd(0), loss: 'meanSquaredError' });
  return { model, bn };
}

const movingStats = (bn: tf.layers.Layer): number[][] =>
  bn
    .getWeights()
    .slice(2)
    .map((w) => Array.from(w.dataSync()));

describe('BatchNormalization fix', () => {
  beforeAll(async () => {
    await initRuntime();
  });

  it('is idempotent once initRuntime applied it', () => {
    expect(patchBatchNormalization()).toBe(false);
    expect(patchBatchNormalization()).toBe(false);
  });

  it('a frozen BN layer keeps its moving statistics during fit and trains with them', async () => {
    const { model, bn } = build(true);
    const { x, y } = data();
    const history = await model.fit(x, y, { epochs: 1, batchSize: 64, shuffle: false, verbose: 0 });
    expect(movingStats(bn)).toEqual([
      [0, 0, 0],
      [1, 1, 1],
    ]);
    // The training loss equals the inference-mode loss: fit normalised with the moving statistics.
    const inference = (model.evaluate(x, y, { batchSize: 64 }) as tf.Scalar).dataSync()[0] ?? NaN;
    expect(history.history['loss']?.[0]).toBeCloseTo(inference, 3);
    // Outputs use the moving statistics: ~ (x - 0) / sqrt(1 + eps), summed by the ones kernel.
    const out = (model.predict(x) as tf.Tensor).dataSync()[0] ?? NaN;
    const row = Array.from(x.slice([0, 0], [1, 3]).dataSync());
    expect(out).toBeCloseTo(
      row.reduce((s, v) => s + v / Math.sqrt(1 + 1e-3), 0),
      3,
    );
  });

  it('a trainable BN layer updates its moving statistics during fit (stock behaviour kept)', async () => {
    const { model, bn } = build(false);
    const { x, y } = data();
    const history = await model.fit(x, y, { epochs: 1, batchSize: 64, shuffle: false, verbose: 0 });
    const [mean, variance] = movingStats(bn);
    // One step with momentum 0.5 moves the mean halfway towards ~10 and the variance towards ~4.
    for (const m of mean ?? []) expect(m).toBeGreaterThan(4);
    for (const v of variance ?? []) expect(v).toBeGreaterThan(1.5);
    // Training normalised with the batch statistics: the loss differs from the inference loss
    // computed before fit would (normalised outputs near 0 vs ~30).
    expect(history.history['loss']?.[0]).toBeLessThan(20);
  });
});
