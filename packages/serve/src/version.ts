import type { ModelMeta } from '@mlship/core';
import { loadModelDir } from '@mlship/model';
import { createInferencePool, tf } from '@mlship/tf';
import type { InferencePool } from '@mlship/tf';
import { describeError } from '@mlship/core';
import { Batcher } from './batcher';
import { ServeError, loadError } from './errors';
import type { NormalizedOptions } from './options';

/** @internal How a version runs inference: a worker pool, or the event loop (workers: 0). */
interface Runner {
  run(x: Float32Array, n: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

function localRunner(model: tf.LayersModel, shape: readonly number[]): Runner {
  return {
    async run(x, n) {
      const y = tf.tidy(() => model.predict(tf.tensor(x, [n, ...shape], 'float32')) as tf.Tensor);
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    dispose: () => {
      model.dispose();
      return Promise.resolve();
    },
  };
}

function poolRunner(pool: InferencePool, shape: readonly number[]): Runner {
  return {
    run: (x, n) => pool.predict(x, [n, ...shape]),
    dispose: () => pool.dispose(),
  };
}

/** Where a loaded version came from (status routes, logs). @internal */
export interface VersionOrigin {
  /** `dir` or `registry`. */
  kind: 'dir' | 'registry';
  /** The directory that was loaded (a checkout for registry versions). */
  dir: string;
  /** Registry tag (`cnn@v2.0.0`) and commit, for registry versions. */
  tag?: string;
  commit?: string;
}

/**
 * @internal One loaded, verified and warmed-up model version with its batcher. Requests hold it
 * with `acquire`/`release`; `retire` waits for them before freeing the workers.
 */
export class LoadedVersion {
  state: 'AVAILABLE' | 'UNLOADING' | 'END' = 'AVAILABLE';
  private inflight = 0;
  private drained: (() => void)[] = [];
  readonly rowSize: number;
  readonly classes: number;
  readonly loadedAt = new Date();

  private constructor(
    readonly model: string,
    readonly version: number,
    readonly meta: ModelMeta,
    readonly origin: VersionOrigin,
    private readonly runner: Runner,
    readonly batcher: Batcher,
  ) {
    const [h, w, c] = meta.input.shape;
    this.rowSize = h * w * c;
    this.classes = meta.labels.length;
  }

  /**
   * Loads `dir` (every file verified against mlship.json), starts its inference workers and warms
   * them up. Nothing is kept when any step fails.
   *
   * @throws ServeError with the shared code of the failure (INTEGRITY, NOT_A_MODEL_DIR,
   *   INVALID_META), `LOAD_FAILED`, or `WARMUP_FAILED`
   */
  static async load(
    modelName: string,
    version: number,
    origin: VersionOrigin,
    o: NormalizedOptions,
    onBatch?: (size: number, ms: number) => void,
  ): Promise<LoadedVersion> {
    const context = `model ${modelName} version ${version} (${origin.tag ?? origin.dir})`;
    const data = { model: modelName, version, path: origin.dir };
    let model: tf.LayersModel;
    let meta: ModelMeta;
    try {
      ({ model, meta } = await loadModelDir(origin.dir));
    } catch (e) {
      throw loadError(e, `${context}: cannot load`, data);
    }
    let runner: Runner | undefined;
    try {
      const inShape = model.inputs[0]?.shape ?? [];
      const outShape = model.outputs[0]?.shape ?? [];
      if (model.inputs.length !== 1 || model.outputs.length !== 1)
        throw new ServeError(
          'LOAD_FAILED',
          `${context}: expected one input and one output, got ${model.inputs.length} and ${model.outputs.length}`,
          { data },
        );
      if (JSON.stringify(inShape.slice(1)) !== JSON.stringify(meta.input.shape))
        throw new ServeError(
          'LOAD_FAILED',
          `${context}: model input [${inShape.slice(1).join(', ')}] differs from mlship.json input.shape [${meta.input.shape.join(', ')}]`,
          { data },
        );
      if (outShape.length !== 2 || outShape[1] !== meta.labels.length)
        throw new ServeError(
          'LOAD_FAILED',
          `${context}: model output [${outShape.join(', ')}] does not give one probability per label (${meta.labels.length} labels)`,
          { data },
        );
      // A diverged training run saves NaN weights that a ReLU can hide from the warm-up: check them.
      for (const w of model.weights) {
        const values = w.read().dataSync();
        for (let i = 0; i < values.length; i++) {
          if (!Number.isFinite(values[i]))
            throw new ServeError(
              'WARMUP_FAILED',
              `${context}: weight ${w.name} holds a non-finite value (${String(values[i])}) at index ${i}: the weights are broken`,
              { data },
            );
        }
      }
      const shape = meta.input.shape;
      if (o.workers === 0) runner = localRunner(model, shape);
      else {
        const pool = await createInferencePool({ model, workers: o.workers, backend: o.backend });
        model.dispose();
        runner = poolRunner(pool, shape);
      }
    } catch (e) {
      if (runner === undefined) model.dispose();
      if (e instanceof ServeError) throw e;
      throw loadError(e, `${context}: cannot start inference`, data);
    }
    const b = o.batching;
    const batcher = new Batcher({
      rowSize: meta.input.shape[0] * meta.input.shape[1] * meta.input.shape[2],
      outSize: meta.labels.length,
      maxBatchSize: b === false ? 1 : b.maxBatchSize,
      maxDelayMs: b === false ? 0 : b.maxDelayMs,
      maxQueue: b === false ? 1024 : b.maxQueue,
      coalesce: b !== false,
      run: (x, n) => runner.run(x, n),
      ...(onBatch === undefined ? {} : { onBatch }),
    });
    const v = new LoadedVersion(modelName, version, meta, origin, runner, batcher);
    try {
      await v.warmUp(b === false ? 1 : b.maxBatchSize, context);
    } catch (e) {
      await runner.dispose().catch(() => undefined);
      throw e instanceof ServeError && e.code === 'WARMUP_FAILED'
        ? e
        : new ServeError(
            'WARMUP_FAILED',
            `${context}: warm-up inference failed: ${describeError(e)}`,
            { cause: e, data },
          );
    }
    return v;
  }

  /** Runs a batch of blank images (raw 0 scaled) of 1 and of `maxBatch` rows; outputs must be finite probabilities. */
  private async warmUp(maxBatch: number, context: string): Promise<void> {
    const blank = this.meta.input.offset;
    for (const n of maxBatch > 1 ? [1, maxBatch] : [1]) {
      const x = new Float32Array(n * this.rowSize).fill(blank);
      const out = await this.runner.run(x, n);
      if (out.length !== n * this.classes)
        throw new ServeError(
          'WARMUP_FAILED',
          `${context}: warm-up gave ${out.length} outputs for ${n} images, expected ${n * this.classes}`,
        );
      for (let i = 0; i < out.length; i++) {
        const p = out[i] as number;
        if (!Number.isFinite(p))
          throw new ServeError(
            'WARMUP_FAILED',
            `${context}: warm-up gave a non-finite output (${p}) at index ${i}: the weights are broken`,
            {
              data: { model: this.model, version: this.version },
            },
          );
      }
    }
  }

  /** Holds the version for one request. */
  acquire(): void {
    this.inflight++;
  }

  /** Releases what {@link acquire} held. */
  release(): void {
    this.inflight--;
    if (this.inflight === 0) {
      const d = this.drained;
      this.drained = [];
      for (const f of d) f();
    }
  }

  /** Number of requests holding this version. */
  get inFlight(): number {
    return this.inflight;
  }

  /** Waits for every holder and queued job, then frees the workers. Idempotent. */
  async retire(): Promise<void> {
    if (this.state !== 'AVAILABLE') return;
    this.state = 'UNLOADING';
    if (this.inflight > 0) await new Promise<void>((r) => this.drained.push(r));
    await this.batcher.idle();
    await this.runner.dispose().catch(() => undefined);
    this.state = 'END';
  }
}
