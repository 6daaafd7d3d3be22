// Measures training throughput of "model A" (conv32-pool-conv64-pool-dense128-dense10, Adam,
// batch 64, 28x28x1 random data) on the wasm backend, and the per-kernel time of one step.
//   npx tsx scripts/profile-train.ts [--stock=Name,Name] [--steps=N]
// --stock keeps the stock wasm kernel for the listed names (to measure each replacement's effect);
// Conv2DBackpropFilter cannot be kept stock: wasm has none.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { stockKernelConfig } from '../src/kernels/common';
import { registerWasmTrainingKernels } from '../src/kernels/index';

const arg = (k: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1];
const keepStock = (arg('stock') ?? '').split(',').filter(Boolean);
const steps = Number(arg('steps') ?? 20);
const batch = 64;

await tf.setBackend('wasm');
const names = registerWasmTrainingKernels();
for (const name of keepStock) {
  const config = stockKernelConfig(name);
  if (config == null) throw new Error(`no stock ${name}`);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(config);
}
console.log(`backend ${tf.getBackend()}; ours: ${names.filter((n) => !keepStock.includes(n))}`);

function modelA(): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
  );
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 128, activation: 'relu' }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return m;
}

const model = modelA();
const n = batch * steps;
const xs = tf.randomUniform([n, 28, 28, 1]);
const ys = tf.oneHot(tf.randomUniform([n], 0, 10, 'int32') as tf.Tensor1D, 10);
const xb = xs.slice([0, 0, 0, 0], [batch, 28, 28, 1]);
const yb = ys.slice([0, 0], [batch, 10]);

await model.fit(xb, yb, { batchSize: batch, epochs: 1, verbose: 0 }); // warm up
let t0 = performance.now();
await model.fit(xs, ys, { batchSize: batch, epochs: 1, verbose: 0, shuffle: false });
let ms = performance.now() - t0;
console.log(`fit: ${((n / ms) * 1000).toFixed(0)} img/s (${(ms / steps).toFixed(1)} ms/step)`);

t0 = performance.now();
for (let i = 0; i < steps; i++) await model.trainOnBatch(xb, yb);
ms = performance.now() - t0;
console.log(
  `trainOnBatch: ${((n / ms) * 1000).toFixed(0)} img/s (${(ms / steps).toFixed(1)} ms/step)`,
);

const reps = 5;
const byKernel = new Map<string, { ms: number; calls: number }>();
let wall = 0;
for (let r = 0; r < reps; r++) {
  const t = performance.now();
  const info = await tf.profile(() => model.trainOnBatch(xb, yb) as unknown as tf.Tensor);
  wall += performance.now() - t;
  for (const k of info.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += k.kernelTimeMs as number;
    e.calls += 1;
    byKernel.set(k.name, e);
  }
}
const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
const total = rows.reduce((s, [, e]) => s + e.ms, 0) / reps;
console.log(
  `per step (tf.profile, mean of ${reps}): kernels ${total.toFixed(1)} ms, wall ${(wall / reps).toFixed(1)} ms`,
);
for (const [name, e] of rows.slice(0, 25)) {
  console.log(
    `  ${name.padEnd(24)} ${(e.ms / reps).toFixed(2).padStart(8)} ms  ${String(e.calls / reps).padStart(4)} calls`,
  );
}
