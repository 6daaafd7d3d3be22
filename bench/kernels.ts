/**
 * Kernel benchmark: @mlship/tf's fused training kernels on wasm against the stock TensorFlow.js
 * path each replaces, on the shapes of model A's head training on cached features (a 1,600 x 128
 * dense layer and a 128 x 10 one, batch 32):
 *
 * - `adam`: one optimizer step over the head's 4 variables (206,218 weights), `tf.train.adam`
 *   against `FusedAdamOptimizer`;
 * - `forward`: the dense layer's product x·W with W new since the last step (as in training), by
 *   the stock kernel (XNNPACK packs W first) and by mlship's BatchMatMul (the unpacked SIMD
 *   product), with, for reference, XNNPACK on a W it has packed before (inference);
 * - `weightGradient`: x^T·dy, the same two ways;
 * - `loss`: cross-entropy against int labels and the hit count, forward and backward, as the op
 *   formula (oneHot, mul, sum, add, log, mean, neg; argMax, equal, cast, sum) and as
 *   `labelCrossEntropy` / `labelHits`.
 *
 *   pnpm bench:kernels [--reps N]   (or env BENCH_REPS; default 200 calls per timing)
 *
 * Each figure is the median of 5 timings of `reps` calls, in ms per call. Prints a table and as
 * its LAST line exactly one JSON object (bench/README.md).
 */
import os from 'node:os';
import { FusedAdamOptimizer, initRuntime, labelCrossEntropy, labelHits, tf } from '@mlship/tf';
import { runStock } from '../packages/tf/src/kernels/common';

const i = process.argv.indexOf('--reps');
const reps = Number(i >= 0 ? process.argv[i + 1] : (process.env['BENCH_REPS'] ?? '200'));
if (!Number.isInteger(reps) || reps <= 0)
  throw new Error(`--reps: expected a positive integer, got ${reps}`);

/** Median over 5 timings of `reps` calls of `f`, in ms per call (after `reps` warm-up calls). */
function time(f: () => void): number {
  for (let k = 0; k < reps; k++) f();
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let k = 0; k < reps; k++) f();
    runs.push((performance.now() - t0) / reps);
  }
  return runs.sort((a, b) => a - b)[2]!;
}

async function main(): Promise<void> {
  const runtime = await initRuntime({ backend: 'wasm' });
  // The wasm backend (runStock takes it as the kernels' own argument).
  const backend = tf.backend() as unknown as Parameters<typeof runStock>[1];
  console.log(
    `backend: ${runtime.backend}; ${os.availableParallelism()} cores; ${reps} calls per timing`,
  );
  const [B, D, H, C] = [32, 1600, 128, 10];
  const shapes = [[D, H], [H], [H, C], [C]];

  // Adam over the head's variables, fixed gradients.
  const adam = (make: () => tf.Optimizer): number => {
    const optimizer = make();
    const vars = shapes.map((s) => tf.variable(tf.randomNormal(s, 0, 0.05)));
    const grads = vars.map((v) => ({ name: v.name, tensor: tf.randomNormal(v.shape, 0, 0.01) }));
    const ms = time(() => optimizer.applyGradients(grads));
    optimizer.dispose();
    tf.dispose([...vars, ...grads.map((g) => g.tensor)]);
    return ms;
  };
  const adamStock = adam(() => tf.train.adam(1e-3));
  const adamFused = adam(() => new FusedAdamOptimizer(1e-3));

  // Products with a right operand new at every call (a fresh copy of W, as after an Adam step).
  const x = tf.randomNormal([B, D]);
  const w = tf.randomNormal([D, H], 0, 0.05);
  const dy = tf.randomNormal([B, H]);
  const fresh = (t: tf.Tensor) => tf.add(t, 0);
  const copyOnly = time(() => tf.dispose(fresh(w)));
  const product = (f: () => tf.Tensor) => time(() => tf.tidy(() => void f())) - copyOnly;
  const stock = (a: tf.Tensor, b: tf.Tensor, transposeA: boolean) => {
    const out = runStock('BatchMatMul', backend, { a, b }, { transposeA, transposeB: false });
    backend.disposeData(out.dataId);
  };
  const forwardStock = product(() => (stock(x, fresh(w), false), x));
  const forwardMlship = product(() => tf.matMul(x, fresh(w)));
  const forwardPacked = time(() => tf.dispose(tf.matMul(x, w)));
  const dyCopy = time(() => tf.dispose(fresh(dy)));
  const gradStock = time(() => tf.tidy(() => stock(x, fresh(dy), true))) - dyCopy;
  const gradMlship = time(() => tf.tidy(() => void tf.matMul(x, fresh(dy), true, false))) - dyCopy;

  // Loss and hits, forward and backward, on softmax rows.
  const probs = tf.softmax(tf.randomNormal([B, C]));
  const labels = tf.tensor1d(
    Array.from({ length: B }, (_, k) => k % C),
    'int32',
  );
  const formula = (p: tf.Tensor): tf.Scalar => {
    const pLabel = tf.sum(tf.mul(tf.oneHot(labels, C), p), -1);
    return tf.neg(tf.mean(tf.log(tf.add(pLabel, 1e-7)))) as tf.Scalar;
  };
  const lossStock = time(() =>
    tf.tidy(() => {
      tf.grad(formula)(probs);
      tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), labels), 'float32'));
    }),
  );
  const lossFused = time(() =>
    tf.tidy(() => {
      tf.grad((p: tf.Tensor) => labelCrossEntropy(p, labels))(probs);
      labelHits(probs, labels);
    }),
  );
  tf.dispose([x, w, dy, probs, labels]);

  const r = (v: number) => Number(v.toFixed(3));
  const rows: [string, number, number][] = [
    ['adam step (206,218 weights)', adamStock, adamFused],
    ['forward x·W, W new (32x1600 · 1600x128)', forwardStock, forwardMlship],
    ['weight gradient x^T·dy, dy new', gradStock, gradMlship],
    ['loss + hits, forward and backward', lossStock, lossFused],
  ];
  console.log('| ms per call | stock tfjs | mlship | speedup |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, a, b] of rows)
    console.log(`| ${name} | ${a.toFixed(3)} | ${b.toFixed(3)} | ${(a / b).toFixed(1)}x |`);
  console.log(
    `forward x·W on a W XNNPACK packed before (inference, the compute floor): ${forwardPacked.toFixed(3)} ms`,
  );
  console.log(
    JSON.stringify({
      backend: runtime.backend,
      reps,
      adamMs: { stock: r(adamStock), fused: r(adamFused) },
      forwardMs: {
        stock: r(forwardStock),
        mlship: r(forwardMlship),
        packedBefore: r(forwardPacked),
      },
      weightGradientMs: { stock: r(gradStock), mlship: r(gradMlship) },
      lossMs: { stock: r(lossStock), fused: r(lossFused) },
      loadAverage: os.loadavg().map((l) => r(l)),
    }),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
