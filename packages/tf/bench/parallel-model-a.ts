// Throughput of "model A" (conv32-pool-conv64-pool-dense128-dense10, Adam, 28x28x1) on the wasm
// backend: one thread vs the parallel paths. Not part of the package build; run from packages/tf:
//   npx tsx bench/parallel-model-a.ts threads 2   # XNNPACK threads (1 = single-threaded)
//   npx tsx bench/parallel-model-a.ts workers 2   # worker pool / main + (n-1) worker trainer
// Prints one JSON line with images/s medians (inference batch 256, training batch 64).
import { tf, initRuntime } from '../src/index';
import {
  createInferencePool,
  createParallelTrainer,
  enableWasmThreads,
} from '../src/parallel/index';

const mode = process.argv[2] ?? 'threads';
const n = Number(process.argv[3] ?? 2);
const repeats = Number(process.argv[4] ?? 5);

function modelA(): tf.LayersModel {
  const m = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  m.compile({
    optimizer: tf.train.adam(1e-3),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return m;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)] ?? 0);
}

async function rate(images: number, run: () => Promise<void>): Promise<number[]> {
  await run(); // warm-up
  const out: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    await run();
    out.push(images / ((performance.now() - t) / 1000));
  }
  return out;
}

const infer = 256;
const steps = 10;
const batch = 64;
const xInfer = Float32Array.from({ length: infer * 784 }, (_, i) => ((i * 2654435761) % 997) / 997);
const xTrain = xInfer.subarray(
  0,
  steps * batch * 784 > xInfer.length ? xInfer.length : steps * batch * 784,
);
const trainN = xTrain.length / 784;
const yTrain = new Float32Array(trainN * 10);
for (let i = 0; i < trainN; i++) yTrain[i * 10 + (i % 10)] = 1;

const result: Record<string, unknown> = {
  mode,
  n,
  repeats,
  load: (await import('node:os')).loadavg()[0],
};
if (mode === 'threads') {
  result['wasm'] = await enableWasmThreads(n);
  await initRuntime({ backend: 'wasm' });
  const model = modelA();
  const x = tf.tensor(xInfer, [infer, 28, 28, 1]);
  const inf = await rate(infer * 4, () => {
    for (let i = 0; i < 4; i++) tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    return Promise.resolve();
  });
  const xs = tf.tensor(xTrain, [trainN, 28, 28, 1]);
  const ys = tf.tensor(yTrain, [trainN, 10]);
  const xb = tf.split(xs, trainN / batch);
  const yb = tf.split(ys, trainN / batch);
  const train = await rate(trainN, async () => {
    for (let i = 0; i < xb.length; i++)
      await model.trainOnBatch(xb[i] as tf.Tensor, yb[i] as tf.Tensor);
  });
  Object.assign(result, {
    inference: median(inf),
    training: median(train),
    inferRuns: inf.map(Math.round),
    trainRuns: train.map(Math.round),
  });
} else {
  await initRuntime({ backend: 'wasm' });
  const model = modelA();
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler((a) => {
      artifacts = a;
      return Promise.resolve({
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' },
      });
    }),
  );
  let t = performance.now();
  const pool = await createInferencePool({
    modelArtifacts: artifacts,
    workers: n,
  });
  const poolStartMs = Math.round(performance.now() - t);
  const inf = await rate(infer * 4, async () => {
    for (let i = 0; i < 4; i++) await pool.predict(xInfer, [infer, 28, 28, 1]);
  });
  await pool.dispose();
  t = performance.now();
  const trainer = await createParallelTrainer({ model, workers: n - 1 });
  const trainerStartMs = Math.round(performance.now() - t);
  const train = await rate(trainN, async () => {
    await trainer.fitEpoch(xTrain, [trainN, 28, 28, 1], yTrain, [trainN, 10], { batchSize: batch });
  });
  await trainer.dispose();
  Object.assign(result, {
    poolStartMs,
    trainerStartMs,
    inference: median(inf),
    training: median(train),
    inferRuns: inf.map(Math.round),
    trainRuns: train.map(Math.round),
  });
}
console.log(JSON.stringify(result));
