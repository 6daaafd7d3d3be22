import os from 'node:os';
import type * as tfTypes from '@tensorflow/tfjs';
import { TfError } from '../errors';
import { checkTfOptions } from '../options';
import { captureArtifacts } from '../io/layout';
import { readModelArtifacts } from '../io/load';
import { parallelError } from './errors';
import { shardRows } from './shards';
import { SharedArena, TfWorker, defaultWorkerEntry, type WorkerEntry } from './worker-host';

/** Options of {@link createInferencePool}: exactly one of `model`, `modelArtifacts` and `modelDir`. */
export interface InferencePoolOptions {
  /** The model as tfjs artifacts (topology + weights), e.g. from `readModelArtifacts`. */
  modelArtifacts?: tfTypes.io.ModelArtifacts;
  /** A model in memory on this thread (its topology and current weights are copied). */
  model?: tfTypes.LayersModel;
  /** A model directory (`model.json` + weights) to load with `readModelArtifacts`. */
  modelDir?: string;
  /** Number of worker threads. Default: the machine's available parallelism. */
  workers?: number;
  /** Backend each worker runs (`initRuntime({ backend })`). Default `'wasm'`. */
  backend?: 'wasm' | 'cpu' | 'auto';
  /**
   * The program each worker thread runs. Default: @mlship/tf's `worker.js` (ESM) or `worker.cjs`
   * (CJS) next to the running `index` module in its `dist/`. Set it to a path to that file when
   * @mlship/tf is bundled into another file.
   */
  workerEntry?: string;
}

const POOL_OPTIONS: readonly (keyof InferencePoolOptions)[] = [
  'modelArtifacts',
  'model',
  'modelDir',
  'workers',
  'backend',
  'workerEntry',
];

/** A pool of worker threads each holding a replica of one model. */
export interface InferencePool {
  /** Number of worker threads. */
  readonly workers: number;
  /** The backend the workers run. */
  readonly backend: string;
  /** Milliseconds from creation until every worker had its backend and model ready. */
  readonly startupMs: number;
  /**
   * Runs the model on a batch, split row-wise across the workers.
   *
   * @param x - the input batch, row-major (NHWC for images); a SharedArrayBuffer-backed array is
   *   read in place, any other is copied once into the pool's shared buffer.
   * @param shape - the batch shape, `[n, ...inputShape]`.
   * @returns the model's (first) output for every row, row-major, `n * outputSize` values.
   * @throws TfError `INVALID_OPTION` for a bad shape; `WORKER_FAILED` when a worker's predict
   *   throws; `WORKER_EXITED` when a worker dies; `POOL_DISPOSED` after `dispose()`.
   */
  predict(x: Float32Array, shape: readonly number[]): Promise<Float32Array>;
  /** Terminates the workers. Idempotent. */
  dispose(): Promise<void>;
}

function checkWorkers(value: number | undefined, what: string): number {
  const n =
    value ??
    (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new TfError(
      'INVALID_OPTION',
      `${what}: workers must be an integer in [1, 64], got ${String(value)}`,
      {
        data: { expected: 'integer in [1, 64]', actual: value },
      },
    );
  }
  return n;
}

/** @internal Resolves the `workerEntry` option: the given worker program, or the package's own. */
export function workerEntryOf(option: string | undefined): WorkerEntry {
  return option !== undefined ? { file: option } : defaultWorkerEntry();
}

/**
 * Starts a pool of worker threads, each with its own TensorFlow.js backend (wasm by default) and
 * a replica of the model, and returns a `predict` that splits a batch across them. With the wasm
 * backend single-threaded in Node, this is how inference uses every core. Start-up (importing
 * tfjs and initialising wasm in each worker, then loading the model) takes about a second per
 * worker, in parallel; keep the pool for the life of the program.
 *
 * Workers are unref'd while idle: an undisposed pool does not keep the process alive.
 *
 * @param options - the model (`model`, `modelArtifacts` or `modelDir`), `workers`, `backend`,
 *   `workerEntry`.
 * @returns the ready pool.
 * @throws TfError `INVALID_OPTION` for missing/ambiguous model options, a bad worker count or an
 *   unknown option key;
 *   model IO errors of `readModelArtifacts`; `WORKER_FAILED` when a worker cannot start or load
 *   the model (all workers are then terminated).
 * @example
 * ```ts
 * const pool = await createInferencePool({ modelDir: './models/cnn', workers: 2 });
 * const probs = await pool.predict(images, [256, 28, 28, 1]); // 256 * 10 values
 * await pool.dispose();
 * ```
 */
export async function createInferencePool(options: InferencePoolOptions): Promise<InferencePool> {
  const started = performance.now();
  checkTfOptions(options, POOL_OPTIONS, 'createInferencePool options');
  const workers = checkWorkers(options.workers, 'createInferencePool');
  const given = (['model', 'modelArtifacts', 'modelDir'] as const).filter(
    (k) => options[k] !== undefined,
  );
  if (given.length !== 1) {
    throw new TfError(
      'INVALID_OPTION',
      `createInferencePool: pass exactly one of model, modelArtifacts and modelDir, got ${given.length === 0 ? 'none' : given.join(' and ')}`,
      { data: { expected: 'one of model, modelArtifacts, modelDir', actual: given } },
    );
  }
  const artifacts =
    options.modelArtifacts ??
    (options.model !== undefined
      ? await captureArtifacts(options.model, 'INVALID_OPTION')
      : await readModelArtifacts(options.modelDir as string));
  const entry = workerEntryOf(options.workerEntry);
  const backend = options.backend ?? 'wasm';
  const team = Array.from({ length: workers }, (_, i) => new TfWorker(i, entry, backend));
  const payload = {
    artifacts: {
      modelTopology: artifacts.modelTopology,
      weightSpecs: artifacts.weightSpecs,
      weightData: artifacts.weightData,
    },
  };
  let activeBackend: string = backend;
  let outputSize = 1;
  try {
    const answers = await Promise.all(team.map((w) => w.request('init', payload)));
    activeBackend = answers[0]?.backend ?? backend;
    outputSize = (answers[0]?.outputShape ?? []).slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
  } catch (e) {
    await Promise.all(team.map((w) => w.terminate()));
    throw e;
  }
  return new Pool(team, activeBackend, outputSize, Math.round(performance.now() - started));
}

class Pool implements InferencePool {
  private readonly input = new SharedArena();
  private readonly output = new SharedArena();
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(
    private readonly team: TfWorker[],
    readonly backend: string,
    private readonly outputSize: number,
    readonly startupMs: number,
  ) {}

  get workers(): number {
    return this.team.length;
  }

  predict(x: Float32Array, shape: readonly number[]): Promise<Float32Array> {
    // One batch at a time: the shared buffers are reused across calls.
    const run = this.queue.then(
      () => this.run(x, shape),
      () => this.run(x, shape),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(x: Float32Array, shape: readonly number[]): Promise<Float32Array> {
    if (this.disposed)
      throw parallelError('POOL_DISPOSED', 'InferencePool.predict called after dispose()');
    const n = shape[0] ?? 0;
    const rowSize = shape.slice(1).reduce((a, b) => a * b, 1);
    if (
      shape.length < 2 ||
      !shape.every((d) => Number.isInteger(d) && d >= 0) ||
      n * rowSize !== x.length
    ) {
      throw new TfError(
        'INVALID_OPTION',
        `InferencePool.predict: shape [${shape.join(', ')}] does not describe the ${x.length} input values; expected [n, ...inputShape] with a product of ${x.length}`,
        { data: { expected: x.length, actual: [...shape] } },
      );
    }
    if (n === 0) return new Float32Array(0);
    const outSize = this.outputSize;
    let xs: SharedArrayBuffer;
    let xBase: number;
    if (x.buffer instanceof SharedArrayBuffer) {
      xs = x.buffer;
      xBase = x.byteOffset;
    } else {
      xs = this.input.get(x.length);
      new Float32Array(xs, 0, x.length).set(x);
      xBase = 0;
    }
    const out = this.output.get(n * outSize);
    const shards = shardRows(n, Math.min(this.team.length, n));
    await Promise.all(
      shards.map(([start, count], i) =>
        (this.team[i] as TfWorker).request('predict', {
          x: { sab: xs, byteOffset: xBase + start * rowSize * 4, length: count * rowSize },
          shape: [count, ...shape.slice(1)],
          out: { sab: out, byteOffset: start * outSize * 4, length: count * outSize },
        }),
      ),
    );
    return new Float32Array(out, 0, n * outSize).slice();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(this.team.map((w) => w.terminate()));
  }
}
