// Measures training throughput of "model A" (conv32-pool-conv64-pool-dense128-dense10, Adam,
// batch 64, 28x28x1 random data) on the wasm backend, and where one step's time goes by kernel.
//   npx tsx bench/profile-train.ts [--stock=Name,Name|all] [--steps=N] [--model=b] [--fit-kernels]
// --stock keeps the stock wasm kernel for the listed names (to measure each replacement's effect);
// Conv2DBackpropFilter cannot be kept stock: wasm has none.
// Times are CPU time of this process (process.cpuUsage), which, unlike wall time, stays meaningful
// on a machine busy with other work; wall-clock figures are printed too.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { stockKernelConfig } from '../src/kernels/common';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNEL_NAMES } from '../src/kernels/index';

const arg = (k: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1];
const stockArg = arg('stock') ?? '';
const keepStock = (stockArg === 'all' ? [...WASM_TRAINING_KERNEL_NAMES] : stockArg.split(','))
  .filter(Boolean)
  .filter((n) => n !== 'Conv2DBackpropFilter');
const steps = Number(arg('steps') ?? 20);
const batch = 64;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

await tf.setBackend('wasm');
const names = registerWasmTrainingKernels();
for (const name of keepStock) {
  const config = stockKernelConfig(name);
  if (config == null) throw new Error(`no stock ${name}`);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(config);
}
console.log(
  `backend ${tf.getBackend()}; ours: ${names.filter((n) => !keepStock.includes(n)).join(',')}`,
);

// Per-kernel CPU time: wrap every wasm kernel (inner calls made by composite kernels go to the
// stock functions directly, so nothing is counted twice).
const byKernel = new Map<string, { ms: number; calls: number }>();
let recording = false;
for (const config of tf.getKernelsForBackend('wasm')) {
  const inner = config.kernelFunc;
  tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel({
    ...config,
    kernelFunc: (args) => {
      if (!recording) return inner(args);
      const t = cpuMs();
      const out = inner(args);
      const e = byKernel.get(config.kernelName) ?? { ms: 0, calls: 0 };
      e.ms += cpuMs() - t;
      e.calls += 1;
      byKernel.set(config.kernelName, e);
      return out;
    },
  });
}

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

/** "model B": batch norm, a stride-2 conv, global average pooling and dropout. */
function modelB(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, padding: 'same' }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, strides: 2, padding: 'same' }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.globalAveragePooling2d({}));
  m.add(tf.layers.dropout({ rate: 0.3 }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return m;
}

const model = arg('model') === 'b' ? modelB() : modelA();
const n = batch * steps;
const xs = tf.randomUniform([n, 28, 28, 1]);
const ys = tf.oneHot(tf.randomUniform<tf.Rank.R1>([n], 0, 10, 'int32'), 10);
const xb = xs.slice([0, 0, 0, 0], [batch, 28, 28, 1]);
const yb = ys.slice([0, 0], [batch, 10]);

const report = (label: string, wall: number, cpu: number) =>
  console.log(
    `${label}: ${((n / cpu) * 1000).toFixed(0)} img/s by CPU time (${(cpu / steps).toFixed(1)} ms/step), ` +
      `${((n / wall) * 1000).toFixed(0)} img/s wall (${(wall / steps).toFixed(1)} ms/step)`,
  );

await model.fit(xb, yb, { batchSize: batch, epochs: 1, verbose: 0 }); // warm up
let w = performance.now();
let c = cpuMs();
recording = true;
await model.fit(xs, ys, { batchSize: batch, epochs: 1, verbose: 0, shuffle: false });
recording = false;
const fitCpu = cpuMs() - c;
report('fit', performance.now() - w, fitCpu);
const fitKernels = [...byKernel.values()].reduce((s, e) => s + e.ms, 0) / steps;
console.log(
  `per fit step (CPU ms): ${(fitCpu / steps).toFixed(1)} total, ${fitKernels.toFixed(1)} in kernels`,
);
const printTop = () => {
  const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
  for (const [name, e] of rows.slice(0, 20)) {
    console.log(
      `  ${name.padEnd(22)} ${(e.ms / steps).toFixed(2).padStart(7)} ms ${String(e.calls / steps).padStart(4)} calls`,
    );
  }
};
if (process.argv.includes('--fit-kernels')) printTop();
byKernel.clear();

w = performance.now();
c = cpuMs();
recording = true;
for (let i = 0; i < steps; i++) await model.trainOnBatch(xb, yb);
recording = false;
const cpu = cpuMs() - c;
report('trainOnBatch', performance.now() - w, cpu);

const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
const inKernels = rows.reduce((s, [, e]) => s + e.ms, 0) / steps;
console.log(
  `per trainOnBatch step (CPU ms, mean of ${steps}): ${(cpu / steps).toFixed(1)} total, ` +
    `${inKernels.toFixed(1)} in kernels, ${(cpu / steps - inKernels).toFixed(1)} outside`,
);
for (const [name, e] of rows.slice(0, 20)) {
  console.log(
    `  ${name.padEnd(22)} ${(e.ms / steps).toFixed(2).padStart(7)} ms ${String(e.calls / steps).padStart(4)} calls`,
  );
}
