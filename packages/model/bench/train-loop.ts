/**
 * Compares @mlship/model's custom training loop (`train`: optimizer.minimize per batch, Uint8
 * images scaled batch by batch) with tfjs `model.fit` on the same model, data, batch size and
 * optimizer. Prints images/s for each; run on a quiet machine for meaningful figures.
 *
 *   pnpm --filter @mlship/model build && cd packages/model && npx tsx bench/train-loop.ts
 *   (env: N images (default 2000), BATCH (32), ROUNDS (2), MLSHIP_BACKEND)
 */
import { loadMnist, take } from '@mlship/data';
import { initRuntime, tf } from '@mlship/tf';
import { buildModel, defaultCnnSpec, train } from '../src/index';

const n = Number(process.env['N'] ?? 2000);
const batchSize = Number(process.env['BATCH'] ?? 32);
const rounds = Number(process.env['ROUNDS'] ?? 2);

const info = await initRuntime();
console.log(`backend ${info.backend} (${info.reason})`);
const data = take(await loadMnist({ split: 'train' }), n);
const spec = defaultCnnSpec();

async function customLoop(): Promise<number> {
  const model = buildModel(spec, { seed: 1 });
  const t0 = performance.now();
  await train(model, data, { epochs: 1, batchSize, input: spec.input, shuffle: false });
  const secs = (performance.now() - t0) / 1000;
  model.dispose();
  return n / secs;
}

async function modelFit(): Promise<number> {
  const model = buildModel(spec, { seed: 1 });
  model.compile({
    optimizer: tf.train.adam(0.001),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const t0 = performance.now();
  // model.fit needs the whole float dataset as tensors (the custom loop never materialises it); count that too.
  const x = tf.tensor4d(
    Float32Array.from(data.images, (v) => v / 255),
    [n, 28, 28, 1],
  );
  const y = tf.oneHot(tf.tensor1d(data.labels, 'int32'), 10);
  await model.fit(x, y, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
  const secs = (performance.now() - t0) / 1000;
  tf.dispose([x, y]);
  model.dispose();
  return n / secs;
}

for (let r = 1; r <= rounds; r++) {
  const loop = await customLoop();
  const fit = await modelFit();
  console.log(
    `round ${r}: train() ${loop.toFixed(0)} img/s, model.fit ${fit.toFixed(0)} img/s (n=${n}, batch ${batchSize})`,
  );
}
