import os from 'node:os';
import { createRng, isValidSeed, permutation } from '@mlship/core';
import * as tf from '@tensorflow/tfjs';
import { TfError } from '../errors';
import { checkTfOptions } from '../options';
import { captureArtifacts } from '../io/layout';
import { parallelError } from './errors';
import { workerEntryOf } from './inference-pool';
import { PARALLEL_LOSSES, correctCount, lossFunction, type ParallelLoss } from './loss';
import type { WeightLayout, WireLayout } from './protocol';
import { checkShapes, shardRows, weightedRows, type Shard } from './shards';
import { SharedArena, TfWorker } from './worker-host';

/** Options of {@link createParallelTrainer}. */
export interface ParallelTrainerOptions {
  /** A compiled model (optimizer + one of {@link PARALLEL_LOSSES}); it is trained in place. */
  model: tf.LayersModel;
  /**
   * Worker threads holding replicas. Default: available parallelism - 1 when the main thread
   * computes a shard (so 1 on a 2-core machine), else the available parallelism.
   */
  workers?: number;
  /** Whether the main thread computes a shard too. Default true. */
  mainShard?: boolean;
  /**
   * Size the shards by each thread's measured speed (rows per ms, averaged over steps) instead of
   * evenly, so a thread slowed by other processes gets fewer rows. The step's gradient is the same
   * either way (weighted by shard size) up to float rounding, but the split then depends on timing:
   * runs are not bit-reproducible, and BatchNorm statistics follow the split. Default false.
   */
  balance?: boolean;
  /** Backend of the workers. Default `'wasm'`. */
  backend?: 'wasm' | 'cpu' | 'auto';
  /** The program each worker thread runs (see `InferencePoolOptions.workerEntry`). */
  workerEntry?: string;
}

const TRAINER_OPTIONS: readonly (keyof ParallelTrainerOptions)[] = [
  'model',
  'workers',
  'mainShard',
  'balance',
  'backend',
  'workerEntry',
];

/** Loss and accuracy of one step or epoch (means over the examples). */
export interface BatchResult {
  /** Mean loss over the batch (regularisation terms not included). */
  loss: number;
  /** Fraction of examples classified right (argmax match; threshold 0.5 for binary). */
  accuracy: number;
}

/** Result of {@link ParallelTrainer.fitEpoch}. */
export interface EpochResult extends BatchResult {
  /** Examples trained on. */
  images: number;
  /** Wall-clock seconds of the epoch. */
  seconds: number;
  /** `images / seconds`. */
  imagesPerSec: number;
}

/** Options of {@link ParallelTrainer.fitEpoch}. */
export interface FitEpochOptions {
  /** Examples per step. Default 64. */
  batchSize?: number;
  /**
   * Shuffle the examples with this seed (a safe integer; `createRng` of `@mlship/core`) before
   * batching; no shuffling when omitted.
   */
  shuffleSeed?: number;
  /** Called after every step with its index (from 0), the step count and its result. */
  onBatch?: (step: number, steps: number, result: BatchResult) => void;
}

const FIT_EPOCH_OPTIONS: readonly (keyof FitEpochOptions)[] = [
  'batchSize',
  'shuffleSeed',
  'onBatch',
];

/** Data-parallel synchronous training of one model on the main thread plus worker replicas. */
export interface ParallelTrainer {
  /** Worker threads (not counting the main thread). */
  readonly workers: number;
  /** Milliseconds until every worker had its backend and replica ready. */
  readonly startupMs: number;
  /**
   * One optimizer step on a batch: the batch is split into shards, each shard's gradient is
   * computed on its own thread from the same weights, the gradients are averaged weighted by
   * shard size (the gradient of the batch-mean loss) and applied once with the model's optimizer.
   *
   * @param x - inputs, row-major, `xShape` (`[n, ...inputShape]`).
   * @param xShape - the input shape.
   * @param y - targets (one-hot for categorical losses), row-major.
   * @param yShape - the target shape; default `[n, y.length / n]`.
   * @returns the batch's mean loss and accuracy.
   * @throws TfError `INVALID_OPTION` for inconsistent shapes; `WORKER_FAILED` / `WORKER_EXITED`
   *   when a replica fails; `POOL_DISPOSED` after `dispose()`.
   */
  trainBatch(
    x: Float32Array,
    xShape: readonly number[],
    y: Float32Array,
    yShape?: readonly number[],
  ): Promise<BatchResult>;
  /**
   * One pass over a dataset in batches of `batchSize` (the last batch may be smaller).
   *
   * @param x - all inputs, row-major, `xShape`.
   * @param xShape - `[n, ...inputShape]`.
   * @param y - all targets, row-major.
   * @param yShape - default `[n, y.length / n]`.
   * @param options - `batchSize`, `shuffleSeed`, `onBatch`.
   * @returns mean loss and accuracy over the epoch, and its throughput.
   * @throws as {@link ParallelTrainer.trainBatch}; `INVALID_OPTION` for an unknown option key or a
   *   bad `batchSize`.
   */
  fitEpoch(
    x: Float32Array,
    xShape: readonly number[],
    y: Float32Array,
    yShape?: readonly number[],
    options?: FitEpochOptions,
  ): Promise<EpochResult>;
  /** Terminates the workers (the model stays usable). Idempotent. */
  dispose(): Promise<void>;
}

type LayerVariable = tf.LayersModel['weights'][number];

function lossNameOf(model: tf.LayersModel): ParallelLoss {
  const optimizer = (model as unknown as { optimizer?: tf.Optimizer }).optimizer;
  const raw: unknown = (model as unknown as { loss?: unknown }).loss;
  const name = Array.isArray(raw) && raw.length === 1 ? (raw[0] as unknown) : raw;
  if (
    optimizer == null ||
    typeof name !== 'string' ||
    !(PARALLEL_LOSSES as readonly string[]).includes(name)
  ) {
    throw new TfError(
      'INVALID_OPTION',
      `createParallelTrainer: the model must be compiled with an optimizer and one of the losses ${PARALLEL_LOSSES.join(', ')}; got optimizer ${optimizer == null ? 'none' : 'set'}, loss ${JSON.stringify(raw ?? null)}`,
      { data: { expected: PARALLEL_LOSSES, actual: typeof raw === 'string' ? raw : String(raw) } },
    );
  }
  return name as ParallelLoss;
}

function defaultWorkers(mainShard: boolean): number {
  const cores =
    typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, mainShard ? cores - 1 : cores);
}

/**
 * Starts a data-parallel trainer for a compiled model: `workers` worker threads each hold a replica
 * (built from the model's topology, on their own wasm backend), and every step splits the batch
 * between them and, by default, the main thread. The main thread averages the shards' gradients
 * (weighted by shard size, which is exactly the gradient of the whole batch's mean loss) and applies
 * them with the model's own optimizer, so optimizer state lives in one place; the new weights are
 * then published to the replicas through a SharedArrayBuffer they read in place.
 *
 * For models without BatchNormalization a step equals a single-threaded `trainOnBatch` on the same
 * batch (within float rounding). BatchNormalization in training mode normalises each shard with
 * that shard's own statistics (no synchronised BatchNorm, as PyTorch's DataParallel), and its
 * moving mean and variance are merged after every step as the shard-size-weighted mean of the
 * values each shard's forward pass produced from the same starting values, so every shard
 * contributes consistently and the replicas restart from the merged values.
 * Frozen non-trainable weights are left untouched. Regularisation losses are not added
 * (kernel/bias regularizers are ignored); Dropout masks differ from a single-threaded run.
 *
 * Start-up costs about a second per worker (in parallel): create the trainer once and reuse it for
 * every epoch.
 *
 * @param options - `model`, `workers`, `mainShard`, `balance`, `backend`, `workerEntry`.
 * @returns the ready trainer.
 * @throws TfError `INVALID_OPTION` when the model is not compiled with a supported loss, has a
 *   non-float32 weight, `workers` is not a positive integer, or an option key is unknown; `WORKER_FAILED` when a worker cannot
 *   start or build its replica (every worker is then terminated).
 * @example
 * ```ts
 * model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
 * const trainer = await createParallelTrainer({ model, workers: 1 }); // main + 1 worker = 2 cores
 * for (let epoch = 0; epoch < 5; epoch++) {
 *   const r = await trainer.fitEpoch(images, [n, 28, 28, 1], oneHot, [n, 10], { batchSize: 64, shuffleSeed: epoch });
 *   console.log(epoch, r.loss, r.accuracy, r.imagesPerSec);
 * }
 * await trainer.dispose();
 * ```
 */
export async function createParallelTrainer(
  options: ParallelTrainerOptions,
): Promise<ParallelTrainer> {
  const started = performance.now();
  checkTfOptions(options, TRAINER_OPTIONS, 'createParallelTrainer options');
  const { model } = options;
  const lossName = lossNameOf(model);
  const mainShard = options.mainShard ?? true;
  const workers = options.workers ?? defaultWorkers(mainShard);
  if (!Number.isInteger(workers) || workers < (mainShard ? 0 : 1) || workers > 64) {
    throw new TfError(
      'INVALID_OPTION',
      `createParallelTrainer: workers must be an integer in [${mainShard ? 0 : 1}, 64], got ${String(options.workers)}`,
      { data: { expected: `integer in [${mainShard ? 0 : 1}, 64]`, actual: options.workers } },
    );
  }
  const trainableSet = new Set<LayerVariable>(model.trainableWeights);
  const layout: WeightLayout[] = [];
  let offset = 0;
  let gradOffset = 0;
  let statOffset = 0;
  for (const w of model.weights) {
    if (w.dtype !== 'float32') {
      throw new TfError(
        'INVALID_OPTION',
        `createParallelTrainer: weight ${w.name} has dtype ${w.dtype}; expected float32`,
        { data: { expected: 'float32', actual: w.dtype } },
      );
    }
    const size = w.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
    const trainable = trainableSet.has(w);
    layout.push({
      shape: w.shape.map((d) => d ?? 1),
      size,
      offset,
      trainable,
      gradOffset: trainable ? gradOffset : -1,
      statOffset: trainable ? -1 : statOffset,
    });
    offset += size;
    if (trainable) gradOffset += size;
    else statOffset += size;
  }
  const shared = {
    weights: new SharedArrayBuffer(offset * 4),
    grads: Array.from({ length: workers }, () => new SharedArrayBuffer(gradOffset * 4)),
    stats: Array.from({ length: workers }, () => new SharedArrayBuffer(statOffset * 4)),
  };
  const artifacts = await captureArtifacts(model, 'INVALID_OPTION');
  // Without workers the trainer never starts a thread, so it never needs the worker program.
  const entry = workers > 0 ? workerEntryOf(options.workerEntry) : undefined;
  const team =
    entry === undefined
      ? []
      : Array.from(
          { length: workers },
          (_, i) => new TfWorker(i, entry, options.backend ?? 'wasm'),
        );
  const wireLayout: WireLayout = {
    weights: layout,
    trainable: layout.flatMap((w, i) => (w.trainable ? [i] : [])),
    nonTrainable: layout.flatMap((w, i) => (w.trainable ? [] : [i])),
  };
  try {
    await Promise.all(
      team.map((w, i) =>
        w.request('init', {
          artifacts: {
            modelTopology: artifacts.modelTopology,
            weightSpecs: artifacts.weightSpecs,
            weightData: artifacts.weightData,
          },
          layout: wireLayout,
          shared: {
            weights: shared.weights,
            grads: shared.grads[i] as SharedArrayBuffer,
            stats: shared.stats[i] as SharedArrayBuffer,
          },
        }),
      ),
    );
  } catch (e) {
    await Promise.all(team.map((w) => w.terminate()));
    throw e;
  }
  return new Trainer(
    model,
    lossName,
    mainShard,
    options.balance ?? false,
    team,
    layout,
    shared,
    Math.round(performance.now() - started),
  );
}

class Trainer implements ParallelTrainer {
  private readonly xArena = new SharedArena();
  private readonly yArena = new SharedArena();
  private version = 0;
  private published = -1;
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly optimizer: tf.Optimizer;
  private readonly loss: (y: tf.Tensor, p: tf.Tensor) => tf.Tensor;
  /** Rows per millisecond of each participant (main first when it takes part), for balancing. */
  private readonly rates: number[];
  private readonly measured: boolean[] = [];

  constructor(
    private readonly model: tf.LayersModel,
    private readonly lossName: ParallelLoss,
    private readonly mainShard: boolean,
    private readonly balance: boolean,
    private readonly team: TfWorker[],
    private readonly layout: WeightLayout[],
    private readonly shared: {
      weights: SharedArrayBuffer;
      grads: SharedArrayBuffer[];
      stats: SharedArrayBuffer[];
    },
    readonly startupMs: number,
  ) {
    this.optimizer = (model as unknown as { optimizer: tf.Optimizer }).optimizer;
    this.loss = lossFunction(lossName);
    this.rates = new Array<number>(team.length + (mainShard ? 1 : 0)).fill(1);
  }

  /** Folds one shard's measured speed into the participant's rate (exponential average). */
  private learnRate(participant: number, rows: number, ms: number): void {
    if (!this.balance || !(ms > 0)) return;
    const measured = rows / ms;
    this.rates[participant] = this.measured[participant]
      ? 0.7 * (this.rates[participant] ?? measured) + 0.3 * measured
      : measured;
    this.measured[participant] = true;
  }

  get workers(): number {
    return this.team.length;
  }

  trainBatch(
    x: Float32Array,
    xShape: readonly number[],
    y: Float32Array,
    yShape?: readonly number[],
  ): Promise<BatchResult> {
    const run = this.queue.then(
      () => this.step(x, xShape, y, yShape),
      () => this.step(x, xShape, y, yShape),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  async fitEpoch(
    x: Float32Array,
    xShape: readonly number[],
    y: Float32Array,
    yShape?: readonly number[],
    options: FitEpochOptions = {},
  ): Promise<EpochResult> {
    const started = performance.now();
    checkTfOptions(options, FIT_EPOCH_OPTIONS, 'fitEpoch options');
    const n = xShape[0] ?? 0;
    const ys = checkShapes('fitEpoch', x, xShape, y, yShape);
    const batchSize = options.batchSize ?? 64;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new TfError(
        'INVALID_OPTION',
        `fitEpoch: batchSize must be a positive integer, got ${String(batchSize)}`,
        {
          data: { expected: 'positive integer', actual: batchSize },
        },
      );
    }
    const seed = options.shuffleSeed;
    if (seed !== undefined && !isValidSeed(seed)) {
      throw new TfError(
        'INVALID_OPTION',
        `fitEpoch: shuffleSeed must be a safe integer, got ${String(seed)}`,
        { data: { path: 'shuffleSeed', expected: 'safe integer', actual: seed } },
      );
    }
    const xRow = x.length / Math.max(n, 1);
    const yRow = y.length / Math.max(n, 1);
    const order = seed === undefined ? undefined : permutation(n, createRng(seed));
    const steps = Math.ceil(n / batchSize);
    let loss = 0;
    let correct = 0;
    for (let s = 0; s < steps; s++) {
      const start = s * batchSize;
      const count = Math.min(batchSize, n - start);
      let xb: Float32Array;
      let yb: Float32Array;
      if (order === undefined) {
        xb = x.subarray(start * xRow, (start + count) * xRow);
        yb = y.subarray(start * yRow, (start + count) * yRow);
      } else {
        xb = new Float32Array(count * xRow);
        yb = new Float32Array(count * yRow);
        for (let i = 0; i < count; i++) {
          const r = order[start + i] as number;
          xb.set(x.subarray(r * xRow, (r + 1) * xRow), i * xRow);
          yb.set(y.subarray(r * yRow, (r + 1) * yRow), i * yRow);
        }
      }
      const result = await this.trainBatch(xb, [count, ...xShape.slice(1)], yb, [
        count,
        ...ys.slice(1),
      ]);
      loss += result.loss * count;
      correct += result.accuracy * count;
      options.onBatch?.(s, steps, result);
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      loss: n > 0 ? loss / n : 0,
      accuracy: n > 0 ? correct / n : 0,
      images: n,
      seconds,
      imagesPerSec: seconds > 0 ? n / seconds : 0,
    };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(this.team.map((w) => w.terminate()));
  }

  /** Writes the main model's weights where the replicas read them (once per version). */
  private publish(): void {
    if (this.published === this.version) return;
    const all = new Float32Array(this.shared.weights);
    const ws = this.model.weights;
    for (let i = 0; i < ws.length; i++) {
      all.set((ws[i] as LayerVariable).read().dataSync(), (this.layout[i] as WeightLayout).offset);
    }
    this.published = this.version;
  }

  /**
   * The replicas' weight layout (which weights get gradients) is fixed when the trainer is made;
   * freezing or unfreezing a layer afterwards would make shards disagree with the main thread.
   */
  private checkTrainableUnchanged(): void {
    const now = new Set(this.model.trainableWeights);
    const changed = this.model.weights
      .filter((w, i) => now.has(w) !== (this.layout[i] as WeightLayout).trainable)
      .map((w) => `${w.name} (${now.has(w) ? 'now trainable' : 'now frozen'})`);
    if (changed.length > 0) {
      throw new TfError(
        'INVALID_OPTION',
        `ParallelTrainer: the model's trainable weights changed since the trainer was created: ${changed.join(', ')}; dispose it and create a new trainer after freezing or unfreezing layers`,
        {
          data: { expected: 'the trainable weights the trainer was created with', actual: changed },
        },
      );
    }
  }

  private async step(
    x: Float32Array,
    xShape: readonly number[],
    y: Float32Array,
    yShape: readonly number[] | undefined,
  ): Promise<BatchResult> {
    if (this.disposed) throw parallelError('POOL_DISPOSED', 'ParallelTrainer used after dispose()');
    this.checkTrainableUnchanged();
    const ys = checkShapes('trainBatch', x, xShape, y, yShape);
    const n = xShape[0] as number;
    if (n === 0) return { loss: 0, accuracy: 0 };
    const xRow = x.length / n;
    const yRow = y.length / n;
    this.publish();
    const [xs, xBase] = this.toShared(this.xArena, x);
    const [yb, yBase] = this.toShared(this.yArena, y);
    // Rows per participant: the main thread first when it takes part, then the workers in order.
    const plan = this.balance
      ? weightedRows(n, this.rates)
      : shardRows(n, this.rates.length).map(([, count]) => count);
    const mainShardRows = this.mainShard ? (plan[0] ?? 0) : 0;
    const workerShards: Shard[] = [];
    let next = mainShardRows;
    plan.slice(this.mainShard ? 1 : 0).forEach((count, worker) => {
      if (count > 0) workerShards.push({ worker, start: next, count });
      next += count;
    });
    const requests = workerShards.map(({ worker, start, count }) =>
      (this.team[worker] as TfWorker).request('grad', {
        weightsVersion: this.version,
        loss: this.lossName,
        x: { sab: xs, byteOffset: xBase + start * xRow * 4, length: count * xRow },
        xShape: [count, ...xShape.slice(1)],
        y: { sab: yb, byteOffset: yBase + start * yRow * 4, length: count * yRow },
        yShape: [count, ...ys.slice(1)],
      }),
    );
    // Keep every rejection handled even if the main shard throws first.
    const answers = Promise.all(requests);
    answers.catch(() => undefined);

    const trainable = this.model.weights.filter(
      (_, i) => (this.layout[i] as WeightLayout).trainable,
    );
    const vars = trainable.map((w) => w.read() as tf.Variable);
    let mainGrads: tf.NamedTensorMap | undefined;
    let lossSum = 0;
    let correct = 0;
    let mainMs = 0;
    const statsBefore = this.nonTrainableValues();
    try {
      if (mainShardRows > 0) {
        const started = performance.now();
        const result = tf.tidy(() => {
          const xt = tf.tensor(
            new Float32Array(xs, xBase, mainShardRows * xRow),
            [mainShardRows, ...xShape.slice(1)],
            'float32',
          );
          const yt = tf.tensor(
            new Float32Array(yb, yBase, mainShardRows * yRow),
            [mainShardRows, ...ys.slice(1)],
            'float32',
          );
          const { value, grads } = tf.variableGrads(() => {
            const p = this.model.apply(xt, { training: true }) as tf.Tensor;
            correct += correctCount(this.lossName, yt, p);
            return tf.mean<tf.Scalar>(this.loss(yt, p));
          }, vars);
          lossSum += (value.dataSync()[0] ?? 0) * mainShardRows;
          return grads;
        });
        mainGrads = result;
        mainMs = performance.now() - started;
      }
      const results = await answers;
      results.forEach((r, i) => {
        const shard = workerShards[i] as Shard;
        lossSum += r.loss * shard.count;
        correct += r.correct;
        this.learnRate(shard.worker + (this.mainShard ? 1 : 0), shard.count, r.ms);
      });
      if (mainShardRows > 0) this.learnRate(0, mainShardRows, mainMs);
      this.apply(vars, mainGrads, mainShardRows, workerShards, n);
      this.mergeStats(statsBefore, mainShardRows, workerShards, n);
    } finally {
      if (mainGrads !== undefined) tf.dispose(mainGrads);
    }
    this.version++;
    return { loss: lossSum / n, accuracy: correct / n };
  }

  private apply(
    vars: tf.Variable[],
    mainGrads: tf.NamedTensorMap | undefined,
    mainRows: number,
    workerShards: Shard[],
    n: number,
  ): void {
    const trainableLayout = this.layout.filter((w) => w.trainable);
    const combined: tf.NamedTensorMap = {};
    tf.tidy(() => {
      vars.forEach((v, k) => {
        const w = trainableLayout[k] as WeightLayout;
        let sum: tf.Tensor | undefined =
          mainGrads !== undefined
            ? tf.mul(mainGrads[v.name] as tf.Tensor, mainRows / n)
            : undefined;
        workerShards.forEach(({ worker, count: rows }) => {
          const g = tf.tensor(
            new Float32Array(
              this.shared.grads[worker] as SharedArrayBuffer,
              w.gradOffset * 4,
              w.size,
            ),
            w.shape,
            'float32',
          );
          const part = tf.mul(g, rows / n);
          sum = sum === undefined ? part : tf.add(sum, part);
        });
        combined[v.name] = tf.keep(sum as tf.Tensor);
      });
    });
    try {
      // The reported loss cannot show divergence (tf.metrics' cross-entropy clips probabilities),
      // so the gradients are checked: one summed scalar, since NaN and infinities survive a sum.
      const total = tf.tidy(() => tf.addN(Object.values(combined).map((g) => tf.sum(g))));
      const sum = total.dataSync()[0] as number;
      total.dispose();
      if (!Number.isFinite(sum)) {
        throw new TfError(
          'GRADIENTS_NOT_FINITE',
          `ParallelTrainer: the gradients of this step are not finite (their sum is ${sum}); expected finite gradients — the model diverged or the batch holds NaN/Infinity. The step was not applied`,
          { data: { expected: 'finite gradients', actual: sum } },
        );
      }
      this.optimizer.applyGradients(combined);
    } finally {
      tf.dispose(combined);
    }
  }

  private nonTrainableValues(): Float32Array[] {
    return this.model.weights.flatMap((w, i) =>
      (this.layout[i] as WeightLayout).trainable ? [] : [w.read().dataSync() as Float32Array],
    );
  }

  /** Merges non-trainable weights changed by the shards' forward passes (BatchNorm stats). */
  private mergeStats(
    before: Float32Array[],
    mainRows: number,
    workerShards: Shard[],
    n: number,
  ): void {
    let j = 0;
    this.model.weights.forEach((w, i) => {
      const l = this.layout[i] as WeightLayout;
      if (l.trainable) return;
      const old = before[j++] as Float32Array;
      const sources: [Float32Array, number][] = [];
      if (mainRows > 0) sources.push([w.read().dataSync() as Float32Array, mainRows]);
      workerShards.forEach(({ worker: k, count: rows }) => {
        sources.push([
          new Float32Array(this.shared.stats[k] as SharedArrayBuffer, l.statOffset * 4, l.size),
          rows,
        ]);
      });
      const changed = sources.some(([v]) => v.some((value, e) => value !== old[e]));
      if (!changed) return;
      const merged = new Float32Array(l.size);
      const total = sources.reduce((a, [, rows]) => a + rows, 0) || n;
      for (const [values, rows] of sources) {
        const f = rows / total;
        for (let e = 0; e < l.size; e++)
          merged[e] = (merged[e] as number) + (values[e] as number) * f;
      }
      const t = tf.tensor(merged, l.shape, 'float32');
      w.write(t);
      t.dispose();
    });
  }

  private toShared(arena: SharedArena, a: Float32Array): [SharedArrayBuffer, number] {
    if (a.buffer instanceof SharedArrayBuffer) return [a.buffer, a.byteOffset];
    const sab = arena.get(a.length);
    new Float32Array(sab, 0, a.length).set(a);
    return [sab, 0];
  }
}
