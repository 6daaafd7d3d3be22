import os from 'node:os';
import type { ImageDataset } from '@mlship/data';
import type { ParallelTrainer } from '@mlship/tf';
import { createParallelTrainer, isTfError, tf } from '@mlship/tf';
import { ModelError } from '../errors';
import { fillImages } from '../internal/data';
import type { InputSpec } from '@mlship/core';
import { describeError } from '@mlship/core';
import type { Trainables } from './optimizer';
import type { StepResult, Stepper } from './stepper';
import type { ParallelInfo } from './types';

/** The most worker threads {@link train} starts (the trainer's own limit). @internal */
export const MAX_WORKERS = 64;

/**
 * Resolves the `workers` option of `train`: `'auto'` = available parallelism - 1 (the main thread
 * computes a shard too), so 0 on a 1-core machine.
 *
 * @internal
 */
export function resolveWorkers(
  workers: number | 'auto' | undefined,
  cores: number = typeof os.availableParallelism === 'function'
    ? os.availableParallelism()
    : os.cpus().length,
): number {
  if (workers === undefined) return 0;
  if (workers === 'auto') return Math.max(0, Math.min(MAX_WORKERS, cores - 1));
  if (!Number.isInteger(workers) || workers < 0 || workers > MAX_WORKERS) {
    throw new ModelError(
      'INVALID_OPTION',
      `workers: expected 'auto' or an integer in [0, ${MAX_WORKERS}], got ${typeof workers === 'string' ? JSON.stringify(workers) : String(workers)}`,
      { data: { path: 'workers' } },
    );
  }
  return workers;
}

/**
 * Throws `INVALID_OPTION` naming what the parallel trainer cannot do with this model: more than one
 * output, or a weight that is not float32. (Regularizer losses are ignored by both of train's
 * loops alike, so they are not a reason to refuse.)
 *
 * @internal
 */
export function checkParallelModel(model: tf.LayersModel, workers: number): void {
  if (model.outputs.length !== 1) {
    throw new ModelError(
      'INVALID_OPTION',
      `workers: expected 0 for model ${model.name} with ${model.outputs.length} outputs (the parallel trainer supports single-output models only), got ${workers}`,
      { data: { path: 'workers' } },
    );
  }
  const odd = model.weights.find((w) => w.dtype !== 'float32');
  if (odd !== undefined) {
    throw new ModelError(
      'INVALID_OPTION',
      `workers: expected 0 for model ${model.name}: weight ${odd.name} has dtype ${odd.dtype} and the parallel trainer needs float32 weights, got ${workers}`,
      { data: { path: 'workers' } },
    );
  }
}

interface CompileState {
  optimizer_: tf.Optimizer | undefined;
  isOptimizerOwned: boolean | undefined;
  loss: unknown;
}

/**
 * Lends the model an optimizer and the categorical cross-entropy loss, which is all the parallel
 * trainer reads of a compiled model (it applies the averaged gradients with `model.optimizer`).
 * `model.compile` is not used: it would leave train's optimizer — disposed when train returns —
 * attached to the model. The returned function puts back what the model had (nothing, for a model
 * from `buildModel`), so the model leaves `train` as it came in.
 *
 * @internal
 */
function lendOptimizer(model: tf.LayersModel): {
  set: (optimizer: tf.Optimizer) => void;
  restore: () => void;
} {
  const m = model as unknown as CompileState;
  const saved: CompileState = {
    optimizer_: m.optimizer_,
    isOptimizerOwned: m.isOptimizerOwned,
    loss: m.loss,
  };
  return {
    set: (optimizer) => {
      m.optimizer_ = optimizer;
      m.isOptimizerOwned = false; // model.dispose() must not dispose train's optimizer
      m.loss = 'categoricalCrossentropy';
    },
    restore: () => {
      m.optimizer_ = saved.optimizer_;
      m.isOptimizerOwned = saved.isOptimizerOwned;
      m.loss = saved.loss;
    },
  };
}

/** Resolves to this value when the signal aborts first. */
const ABORTED = Symbol('aborted');

/**
 * Starts a parallel trainer, giving up early when `signal` aborts: the trainer still being started
 * is then disposed as soon as it is up, so no worker outlives the call for longer than its
 * start-up.
 *
 * @internal
 */
async function startTrainer(
  model: tf.LayersModel,
  workers: number,
  signal: AbortSignal | undefined,
): Promise<ParallelTrainer | typeof ABORTED> {
  const backendName = tf.getBackend();
  const pending = createParallelTrainer({
    model,
    workers,
    backend: backendName === 'wasm' || backendName === 'cpu' ? backendName : 'auto',
  }).catch((e: unknown) => {
    throw new ModelError(
      'INVALID_OPTION',
      `workers: could not start ${workers} training worker(s) for model ${model.name}: ${describeError(e)}; expected a model the parallel trainer can replicate, or workers: 0`,
      { cause: e, data: { path: 'workers', code: isTfError(e) ? e.code : null } },
    );
  });
  if (signal === undefined) return pending;
  if (signal.aborted) {
    void pending.then(
      (t) => t.dispose(),
      () => undefined,
    );
    return ABORTED;
  }
  let onAbort: (() => void) | undefined;
  const abortedFirst = new Promise<typeof ABORTED>((resolve) => {
    onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const first = await Promise.race([pending, abortedFirst]);
    if (first === ABORTED) {
      void pending.then(
        (t) => t.dispose(),
        () => undefined,
      );
    }
    return first;
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * One batch's inputs and one-hot targets in SharedArrayBuffers the trainer hands to its workers in
 * place (no copy per step); Uint8 pixels are scaled straight into them.
 *
 * @internal
 */
class SharedBatch {
  private readonly x: Float32Array;
  private readonly y: Float32Array;
  private readonly size: number;

  constructor(
    private readonly ds: ImageDataset,
    batchSize: number,
    private readonly classes: number,
  ) {
    this.size = ds.shape[1] * ds.shape[2] * ds.shape[3];
    const rows = Math.min(batchSize, ds.shape[0]);
    this.x = new Float32Array(new SharedArrayBuffer(rows * this.size * 4));
    this.y = new Float32Array(new SharedArrayBuffer(rows * classes * 4));
  }

  /** Trains one step on `order[start..start+count)`; the caller awaits it before the next fill. */
  step(
    trainer: ParallelTrainer,
    order: Uint32Array | null,
    start: number,
    count: number,
    labels: Int32Array,
    input: InputSpec,
  ): Promise<{ loss: number; accuracy: number }> {
    const x = this.x.subarray(0, count * this.size);
    const y = this.y.subarray(0, count * this.classes);
    fillImages(this.ds, order, start, count, input, x);
    y.fill(0);
    for (let i = 0; i < count; i++) y[i * this.classes + labels[i]!] = 1;
    const [, h, w, c] = this.ds.shape;
    return trainer.trainBatch(x, [count, h, w, c], y, [count, this.classes]);
  }
}

/**
 * Every step data-parallel through @mlship/tf's `createParallelTrainer`: the batch is split between
 * the calling thread and `workers` worker threads, and the averaged gradients are applied with
 * train's optimizer (lent to the model for the call). The trainer fixes the trainable weights and
 * the replicas' layer flags when it starts, so a change between epochs starts a new one.
 *
 * @internal
 */
export class ParallelStepper implements Stepper {
  /** How the run used its workers, for {@link TrainResult.parallel}. */
  readonly info: ParallelInfo;
  private trainer: ParallelTrainer | undefined;
  // Layer flags the running trainer's replicas were built with (a frozen BatchNormalization without
  // trainable weights changes mode without changing the trainable weights).
  private trainerFlags = '';
  private readonly lent: ReturnType<typeof lendOptimizer>;
  private readonly shared: SharedBatch;

  constructor(
    private readonly model: tf.LayersModel,
    trainSet: ImageDataset,
    private readonly input: InputSpec,
    batchSize: number,
    classes: number,
    workers: number,
    private readonly trainables: Trainables,
    private readonly signal: AbortSignal | undefined,
    private readonly now: () => number,
  ) {
    this.info = { workers, startupMs: 0, starts: 0 };
    this.lent = lendOptimizer(model);
    this.shared = new SharedBatch(trainSet, batchSize, classes);
  }

  private layerFlags(): string {
    return this.model.layers.map((l) => (l.trainable ? 1 : 0)).join('');
  }

  async beginEpoch(changed: boolean): Promise<boolean> {
    if (this.trainer !== undefined && (changed || this.layerFlags() !== this.trainerFlags)) {
      const old = this.trainer;
      this.trainer = undefined;
      await old.dispose();
    }
    if (this.trainer !== undefined) return true;
    if (this.signal?.aborted) return false;
    this.lent.set(this.trainables.optimizer);
    this.trainerFlags = this.layerFlags();
    const t0 = this.now();
    const started = await startTrainer(this.model, this.info.workers, this.signal);
    if (started === ABORTED) return false;
    this.trainer = started;
    this.info.startupMs += Math.round(this.now() - t0);
    this.info.starts += 1;
    return true;
  }

  async step(
    order: Uint32Array | null,
    start: number,
    count: number,
    labels: Int32Array,
  ): Promise<StepResult> {
    // The trainer rejects a step whose gradients are not finite without applying it (its clipped
    // cross-entropy would report a finite loss): that is the loop's divergence.
    const r = await this.shared
      .step(this.trainer!, order, start, count, labels, this.input)
      .catch((e: unknown) => {
        if (isTfError(e) && e.code === 'GRADIENTS_NOT_FINITE') return undefined;
        throw e;
      });
    return r === undefined
      ? { loss: Number.NaN, correct: 0 }
      : { loss: r.loss, correct: Math.round(r.accuracy * count) };
  }

  async dispose(): Promise<void> {
    // Workers first: the trainer applies gradients with the optimizer disposed after this.
    if (this.trainer !== undefined) {
      const t = this.trainer;
      this.trainer = undefined;
      await t.dispose();
    }
    this.lent.restore();
  }
}
