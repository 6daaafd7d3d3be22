// Worker-thread data parallelism: every result is checked against the same computation done
// single-threaded on the main thread (wasm backend, mlship kernels).
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, initRuntime, saveLayersModel, isTfError } from '../src/index';
import {
  createInferencePool,
  createParallelTrainer,
  type InferencePool,
  type ParallelTrainer,
} from '../src/parallel/index';
import { seeded } from './helpers';

type Kind = 'dense' | 'conv' | 'batchnorm';

function build(kind: Kind): tf.LayersModel {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const layers: tf.layers.Layer[] = [];
  if (kind === 'dense') {
    layers.push(tf.layers.flatten({ inputShape: [8, 8, 1] }));
    layers.push(tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: init(1) }));
  } else {
    layers.push(
      tf.layers.conv2d({
        inputShape: [8, 8, 1],
        filters: 4,
        kernelSize: 3,
        activation: kind === 'conv' ? 'relu' : 'linear',
        kernelInitializer: init(2),
      }),
    );
    if (kind === 'batchnorm') layers.push(tf.layers.batchNormalization({}));
    layers.push(tf.layers.maxPooling2d({ poolSize: 2 }));
    layers.push(tf.layers.flatten());
  }
  layers.push(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(3) }));
  return tf.sequential({ layers });
}

function compiled(kind: Kind, optimizer: () => tf.Optimizer): tf.LayersModel {
  const m = build(kind);
  m.compile({ optimizer: optimizer(), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

function batch(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const x = seeded(n * 64, seed, 0, 1);
  const labels = seeded(n, seed + 1, 0, 3);
  const y = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) y[i * 3 + Math.floor(labels[i] as number)] = 1;
  return { x, y };
}

function maxAbsDiff(a: tf.Tensor[], b: tf.Tensor[]): number {
  let worst = 0;
  a.forEach((t, i) => {
    const u = (b[i] as tf.Tensor).dataSync();
    t.dataSync().forEach((v, j) => {
      worst = Math.max(worst, Math.abs(v - (u[j] as number)));
    });
  });
  return worst;
}

function artifactsOf(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  return new Promise((resolve, reject) => {
    model
      .save(
        tf.io.withSaveHandler((a) => {
          resolve(a);
          return Promise.resolve({
            modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' },
          });
        }),
      )
      .catch(reject);
  });
}

beforeAll(async () => {
  await initRuntime({ backend: 'wasm' });
});

describe('createParallelTrainer', () => {
  const trainers: ParallelTrainer[] = [];
  afterAll(async () => {
    await Promise.all(trainers.map((t) => t.dispose()));
  });

  it.each<[Kind]>([['dense'], ['conv']])(
    'one SGD step on main + 1 worker equals one single-threaded step (%s)',
    async (kind) => {
      const parallel = compiled(kind, () => tf.train.sgd(0.5));
      const single = compiled(kind, () => tf.train.sgd(0.5));
      single.setWeights(parallel.getWeights());
      const trainer = await createParallelTrainer({ model: parallel, workers: 1 });
      trainers.push(trainer);
      const n = 13; // uneven shards: 7 on the main thread, 6 on the worker
      const { x, y } = batch(n, 42);
      const result = await trainer.trainBatch(x, [n, 8, 8, 1], y, [n, 3]);
      const xt = tf.tensor(x, [n, 8, 8, 1]);
      const yt = tf.tensor(y, [n, 3]);
      const ref = (await single.trainOnBatch(xt, yt)) as number[];
      tf.dispose([xt, yt]);
      expect(result.loss).toBeCloseTo(ref[0] as number, 5);
      expect(result.accuracy).toBeCloseTo(ref[1] as number, 6);
      const got = parallel.getWeights();
      expect(maxAbsDiff(got, single.getWeights())).toBeLessThan(2e-5);
      // And the step did change the weights.
      expect(maxAbsDiff(got, build(kind).getWeights())).toBeGreaterThan(1e-4);
    },
  );

  it('leaves frozen layers untouched and steps the rest like trainOnBatch (transfer learning)', async () => {
    const make = (): tf.LayersModel => {
      const m = build('conv');
      (m.layers[0] as tf.layers.Layer).trainable = false;
      m.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
      return m;
    };
    const parallel = make();
    const single = make();
    single.setWeights(parallel.getWeights());
    const frozen = parallel.layers[0]?.getWeights().map((t) => t.clone()) ?? [];
    const trainer = await createParallelTrainer({ model: parallel, workers: 1 });
    trainers.push(trainer);
    for (const seed of [1, 2]) {
      const { x, y } = batch(10, seed);
      await trainer.trainBatch(x, [10, 8, 8, 1], y, [10, 3]);
      const xt = tf.tensor(x, [10, 8, 8, 1]);
      const yt = tf.tensor(y, [10, 3]);
      await single.trainOnBatch(xt, yt);
      tf.dispose([xt, yt]);
    }
    expect(maxAbsDiff(parallel.layers[0]?.getWeights() ?? [], frozen)).toBe(0);
    expect(maxAbsDiff(parallel.getWeights(), single.getWeights())).toBeLessThan(1e-4);
  });

  it('refuses a step after layers were frozen or unfrozen since it was created, naming them', async () => {
    const model = compiled('dense', () => tf.train.sgd(0.1));
    const trainer = await createParallelTrainer({ model, workers: 1 });
    trainers.push(trainer);
    const { x, y } = batch(6, 3);
    await trainer.trainBatch(x, [6, 8, 8, 1], y, [6, 3]);
    const first = model.layers.find((l) => l.getWeights().length > 0) as tf.layers.Layer;
    first.trainable = false;
    const before = model.getWeights().map((t) => t.clone());
    const error: unknown = await trainer
      .trainBatch(x, [6, 8, 8, 1], y, [6, 3])
      .catch((e: unknown) => e);
    expect(isTfError(error) && error.code).toBe('INVALID_OPTION');
    expect((error as Error).message).toMatch(
      /trainable weights changed since the trainer was created: .*kernel.* \(now frozen\).*create a new trainer/,
    );
    // Nothing was applied.
    expect(maxAbsDiff(model.getWeights(), before)).toBe(0);
    first.trainable = true;
    await expect(trainer.trainBatch(x, [6, 8, 8, 1], y, [6, 3])).resolves.toMatchObject({
      loss: expect.any(Number),
    });
  });

  it('with balance: true, still takes the single-threaded step whatever the split', async () => {
    const parallel = compiled('conv', () => tf.train.sgd(0.2));
    const single = compiled('conv', () => tf.train.sgd(0.2));
    single.setWeights(parallel.getWeights());
    const trainer = await createParallelTrainer({ model: parallel, workers: 1, balance: true });
    trainers.push(trainer);
    for (const [n, seed] of [
      [16, 1],
      [16, 2],
      [5, 3],
      [16, 4],
    ] as const) {
      const { x, y } = batch(n, seed);
      await trainer.trainBatch(x, [n, 8, 8, 1], y, [n, 3]);
      const xt = tf.tensor(x, [n, 8, 8, 1]);
      const yt = tf.tensor(y, [n, 3]);
      await single.trainOnBatch(xt, yt);
      tf.dispose([xt, yt]);
    }
    expect(maxAbsDiff(parallel.getWeights(), single.getWeights())).toBeLessThan(5e-5);
  });

  it('with BatchNorm, applies the shard-weighted mean of per-shard gradients and moving stats', async () => {
    // Each shard normalises with its own batch statistics (no synchronised BatchNorm), so the
    // reference is: per shard, a single-threaded gradient and moving-stat update from the same
    // weights; then their means weighted by shard size.
    const parallel = compiled('batchnorm', () => tf.train.sgd(0.5));
    const reference = compiled('batchnorm', () => tf.train.sgd(0.5));
    const start = parallel.getWeights().map((t) => t.clone());
    reference.setWeights(start);
    const trainer = await createParallelTrainer({ model: parallel, workers: 1 });
    trainers.push(trainer);
    const n = 13;
    const { x, y } = batch(n, 5);
    await trainer.trainBatch(x, [n, 8, 8, 1], y, [n, 3]);
    const shards: [number, number][] = [
      [0, 7],
      [7, 6],
    ];
    const trainable = new Set(reference.trainableWeights);
    const expected = start.map((t) => tf.zerosLike(t));
    for (const [from, count] of shards) {
      reference.setWeights(start);
      const xs = tf.tensor(x.subarray(from * 64, (from + count) * 64), [count, 8, 8, 1]);
      const ys = tf.tensor(y.subarray(from * 3, (from + count) * 3), [count, 3]);
      const vars = reference.trainableWeights.map((w) => w.read() as tf.Variable);
      const { grads } = tf.variableGrads(
        () =>
          tf.mean<tf.Scalar>(
            tf.metrics.categoricalCrossentropy(
              ys,
              reference.apply(xs, { training: true }) as tf.Tensor,
            ),
          ),
        vars,
      );
      const after = reference.getWeights();
      reference.weights.forEach((w, i) => {
        const value = trainable.has(w)
          ? tf.sub(
              start[i] as tf.Tensor,
              tf.mul(grads[(w.read() as tf.Variable).name] as tf.Tensor, 0.5),
            )
          : (after[i] as tf.Tensor);
        expected[i] = tf.add(expected[i] as tf.Tensor, tf.mul(value, count / n));
      });
      tf.dispose([xs, ys, grads]);
    }
    expect(maxAbsDiff(parallel.getWeights(), expected)).toBeLessThan(2e-5);
    expect(maxAbsDiff(parallel.getWeights(), start)).toBeGreaterThan(1e-4);
  });

  it('trains model-A-like conv nets with Adam over epochs, replicas following the main weights', async () => {
    const model = compiled('conv', () => tf.train.adam(0.01));
    const trainer = await createParallelTrainer({ model, workers: 1 });
    trainers.push(trainer);
    const n = 96;
    const { x, y } = batch(n, 7);
    const first = await trainer.fitEpoch(x, [n, 8, 8, 1], y, [n, 3], {
      batchSize: 32,
      shuffleSeed: 1,
    });
    const tensors = tf.memory().numTensors;
    let last = first;
    for (let e = 0; e < 6; e++)
      last = await trainer.fitEpoch(x, [n, 8, 8, 1], y, [n, 3], { batchSize: 32, shuffleSeed: e });
    expect(tf.memory().numTensors).toBe(tensors); // no tensor leaks per step
    expect(first.images).toBe(n);
    expect(last.loss).toBeLessThan(first.loss);
    expect(last.imagesPerSec).toBeGreaterThan(0);
  });

  it('rejects a step with non-finite gradients (NaN in the batch) unapplied, then trains on', async () => {
    const model = compiled('dense', () => tf.train.sgd(0.1));
    const trainer = await createParallelTrainer({ model, workers: 1 });
    trainers.push(trainer);
    const { x, y } = batch(8, 5);
    const bad = x.slice();
    bad[bad.length - 1] = Number.NaN; // in the worker's shard (the last rows)
    const before = model.getWeights().map((t) => t.clone());
    const error: unknown = await trainer
      .trainBatch(bad, [8, 8, 8, 1], y, [8, 3])
      .catch((e: unknown) => e);
    expect(isTfError(error) && error.code).toBe('GRADIENTS_NOT_FINITE');
    expect((error as Error).message).toMatch(
      /gradients of this step are not finite \(their sum is NaN\).*The step was not applied/,
    );
    expect(maxAbsDiff(model.getWeights(), before)).toBe(0);
    const ok = await trainer.trainBatch(x, [8, 8, 8, 1], y, [8, 3]);
    expect(Number.isFinite(ok.loss)).toBe(true);
    expect(maxAbsDiff(model.getWeights(), before)).toBeGreaterThan(0);
  });

  it('surfaces a failing replica step as WORKER_FAILED and keeps training afterwards', async () => {
    const model = compiled('dense', () => tf.train.sgd(0.1));
    const trainer = await createParallelTrainer({ model, workers: 1, mainShard: false });
    trainers.push(trainer);
    const { x, y } = batch(4, 9);
    const before = model.getWeights().map((t) => t.clone());
    // 4 target columns for a 3-class head: the loss fails inside the worker.
    const err: unknown = await trainer
      .trainBatch(x, [4, 8, 8, 1], new Float32Array(16), [4, 4])
      .catch((e: unknown) => e);
    expect(isTfError(err)).toBe(true);
    expect(err).toMatchObject({
      code: 'WORKER_FAILED',
      message: expect.stringMatching(/failed a 'grad' request/),
    });
    expect(maxAbsDiff(model.getWeights(), before)).toBe(0); // a failed step changes nothing
    await expect(trainer.trainBatch(x, [4, 8, 8, 1], y, [4, 3])).resolves.toMatchObject({
      loss: expect.any(Number),
    });
  });

  it('rejects a model that is not compiled, bad shapes and unknown fitEpoch options, with INVALID_OPTION', async () => {
    await expect(
      createParallelTrainer({ model: build('dense'), workers: 0 }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/compiled with an optimizer/),
    });
    const trainer = await createParallelTrainer({
      model: compiled('dense', () => tf.train.sgd(0.1)),
      workers: 0,
    });
    await expect(
      trainer.trainBatch(new Float32Array(10), [2, 8, 8, 1], new Float32Array(6)),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/xShape \[2, 8, 8, 1\] does not describe the 10 input values/),
    });
    const { x, y } = batch(2, 1);
    await expect(
      trainer.fitEpoch(x, [2, 8, 8, 1], y, [2, 3], { batchsize: 2 } as never),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(
        /^fitEpoch options: unknown option "batchsize" \(did you mean "batchSize"\?\); accepted: batchSize, shuffleSeed, onBatch$/,
      ),
    });
    await trainer.dispose();
  });
});

describe('createInferencePool', () => {
  let pool: InferencePool;
  let model: tf.LayersModel;
  let dir: string;

  beforeAll(async () => {
    model = build('conv');
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlship-parallel-'));
    await saveLayersModel(model, path.join(dir, 'm'));
    pool = await createInferencePool({ modelDir: path.join(dir, 'm'), workers: 2 });
  });
  afterAll(async () => {
    await pool.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([[1], [2], [9]])(
    'predicts a batch of %i split across 2 workers exactly as one thread',
    async (n) => {
      const { x } = batch(n, n);
      const want = tf.tidy(() =>
        (model.predict(tf.tensor(x, [n, 8, 8, 1])) as tf.Tensor).dataSync(),
      );
      const got = await pool.predict(x, [n, 8, 8, 1]);
      expect(got.length).toBe(n * 3);
      got.forEach((v, i) => expect(Math.abs(v - (want[i] as number))).toBeLessThan(1e-6));
      // A SharedArrayBuffer-backed input is read in place.
      const shared = new Float32Array(new SharedArrayBuffer(x.byteLength + 8), 8, x.length);
      shared.set(x);
      expect(Array.from(await pool.predict(shared, [n, 8, 8, 1]))).toEqual(Array.from(got));
    },
  );

  it('accepts model artifacts, and answers concurrent calls in order', async () => {
    const other = await createInferencePool({
      modelArtifacts: await artifactsOf(model),
      workers: 1,
    });
    try {
      const a = batch(4, 1).x;
      const b = batch(5, 2).x;
      const [ra, rb] = await Promise.all([
        other.predict(a, [4, 8, 8, 1]),
        pool.predict(b, [5, 8, 8, 1]),
      ]);
      expect(ra.length).toBe(12);
      expect(rb.length).toBe(15);
    } finally {
      await other.dispose();
    }
  });

  it('turns an error inside a worker into a WORKER_FAILED rejection and stays usable', async () => {
    const x = new Float32Array(2 * 10);
    const err: unknown = await pool.predict(x, [2, 10]).catch((e: unknown) => e);
    expect(isTfError(err)).toBe(true);
    expect(err).toMatchObject({
      code: 'WORKER_FAILED',
      message: expect.stringMatching(/Worker \d failed a 'predict' request/),
    });
    const { x: ok } = batch(2, 3);
    expect((await pool.predict(ok, [2, 8, 8, 1])).length).toBe(6);
  });

  it('rejects pending and later calls with WORKER_EXITED when a worker dies, POOL_DISPOSED after dispose', async () => {
    const doomed = await createInferencePool({ model, workers: 1 }); // a model in memory
    const team = (
      doomed as unknown as { team: { request(type: string, body: object): Promise<unknown> }[] }
    ).team;
    await expect(team[0]?.request('exit', { code: 3 })).rejects.toMatchObject({
      code: 'WORKER_EXITED',
    });
    await expect(doomed.predict(batch(1, 1).x, [1, 8, 8, 1])).rejects.toMatchObject({
      code: 'WORKER_EXITED',
    });
    await doomed.dispose();
    await doomed.dispose();
    await expect(doomed.predict(batch(1, 1).x, [1, 8, 8, 1])).rejects.toMatchObject({
      code: 'POOL_DISPOSED',
    });
  });

  it('rejects with WORKER_FAILED and stops its workers when they cannot start', async () => {
    const err: unknown = await createInferencePool({
      modelArtifacts: await artifactsOf(model),
      workers: 2,
      workerEntry: path.join(dir, 'no-such-entry.js'),
    }).catch((e: unknown) => e);
    expect(isTfError(err)).toBe(true);
    expect(err).toMatchObject({
      code: 'WORKER_FAILED',
      message: expect.stringMatching(/failed a 'init' request: .*no-such-entry\.js/),
    });
  });

  it('rejects bad options with INVALID_OPTION', async () => {
    await expect(createInferencePool({ workers: 1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/exactly one of model, modelArtifacts and modelDir, got none/),
    });
    await expect(createInferencePool({ model, modelDir: dir, workers: 1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/got model and modelDir/),
    });
    await expect(createInferencePool({ model, workers: 0 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/workers must be an integer in \[1, 64\], got 0/),
    });
    await expect(pool.predict(new Float32Array(5), [2, 8, 8, 1])).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/shape \[2, 8, 8, 1\] does not describe the 5 input values/),
    });
  });
});

describe('process exit', () => {
  it('a program that never disposes its pool and trainer still exits by itself', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mlship-parallel-exit-'));
    try {
      const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');
      const script = path.join(dir, 'main.mts');
      await writeFile(
        script,
        `import { tf, initRuntime } from ${JSON.stringify(path.join(src, 'index.ts'))};
import { createInferencePool, createParallelTrainer } from ${JSON.stringify(path.join(src, 'parallel/index.ts'))};
await initRuntime({ backend: 'wasm' });
const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'softmax' })] });
model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
const trainer = await createParallelTrainer({ model, workers: 1 });
await trainer.trainBatch(new Float32Array(8), [2, 4], new Float32Array([1, 0, 0, 1]));
let artifacts;
await model.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return { modelArtifactsInfo: {} }; }));
const pool = await createInferencePool({ modelArtifacts: artifacts, workers: 2 });
const out = await pool.predict(new Float32Array(12), [3, 4]);
console.log('done', out.length);
`,
      );
      // A program kept alive by its workers is killed at the timeout: status null, signal set.
      const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
        cwd: path.resolve(src, '..'),
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.stderr).toBe('');
      expect(run.stdout.trim()).toBe('done 6');
      expect(run.signal).toBeNull();
      expect(run.status).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
