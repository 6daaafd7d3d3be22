// Interleaved A/B/C timing of model A training steps (batch 64), so that background load hits all
// variants alike: A = model.trainOnBatch (one thread), B = ParallelTrainer with 0 workers (the
// trainer's own overhead), C = ParallelTrainer main + 1 worker, D = C with `balance: true`. Run from packages/tf:
//   npx tsx bench/parallel-interleaved.ts [rounds]
import os from 'node:os';
import { tf, initRuntime } from '../src/index';
import { createParallelTrainer } from '../src/parallel/index';

const rounds = Number(process.argv[2] ?? 5);
await initRuntime({ backend: 'wasm' });
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
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return m;
}
const steps = 8;
const batch = 64;
const N = steps * batch;
const x = Float32Array.from({ length: N * 784 }, (_, i) => ((i * 2654435761) % 997) / 997);
const y = new Float32Array(N * 10);
for (let i = 0; i < N; i++) y[i * 10 + (i % 10)] = 1;
const a = modelA();
const xs = tf.split(tf.tensor(x, [N, 28, 28, 1]), steps);
const ys = tf.split(tf.tensor(y, [N, 10]), steps);
const b = await createParallelTrainer({ model: modelA(), workers: 0 });
const c = await createParallelTrainer({ model: modelA(), workers: 1 });
const d = await createParallelTrainer({ model: modelA(), workers: 1, balance: true });
const runs: Record<string, number[]> = { A: [], B: [], C: [], D: [] };
const variants: [string, () => Promise<unknown>][] = [
  [
    'A',
    async () => {
      for (let i = 0; i < steps; i++) await a.trainOnBatch(xs[i] as tf.Tensor, ys[i] as tf.Tensor);
    },
  ],
  ['B', () => b.fitEpoch(x, [N, 28, 28, 1], y, [N, 10], { batchSize: batch })],
  ['C', () => c.fitEpoch(x, [N, 28, 28, 1], y, [N, 10], { batchSize: batch })],
  ['D', () => d.fitEpoch(x, [N, 28, 28, 1], y, [N, 10], { batchSize: batch })],
];
for (const [, f] of variants) await f();
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of variants) {
    const t = performance.now();
    await f();
    (runs[name] as number[]).push(N / ((performance.now() - t) / 1000));
  }
}
const med = (v: number[]) =>
  Math.round([...v].sort((p, q) => p - q)[Math.floor(v.length / 2)] ?? 0);
console.log(
  JSON.stringify({
    load: os.loadavg()[0],
    trainOnBatch: med(runs.A!),
    trainerMainOnly: med(runs.B!),
    trainerMainPlusWorker: med(runs.C!),
    balanced: med(runs.D!),
    runs: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.map(Math.round)])),
  }),
);
await b.dispose();
await c.dispose();
await d.dispose();
