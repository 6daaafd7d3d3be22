import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { resolveFromAnchors } from '../resolve';
import { parallelError, remoteError } from './errors';

/**
 * The code every pool worker runs (`new Worker(WORKER_SOURCE, { eval: true })`), plain JavaScript
 * so it needs no build entry of its own. It imports this package's entry module (the tsup bundle,
 * or `src/index.ts` through tsx when running from source) for `tf` and `initRuntime`, so a worker
 * gets exactly the runtime of the main thread: the wasm backend with mlship's training kernels and
 * BatchNorm fix, in its own engine.
 *
 * Requests are `{ id, type, ... }`; every request gets `{ id, ok: true, ... }` or
 * `{ id, ok: false, error: { name, message, stack } }`. Big arrays live in SharedArrayBuffers the
 * main thread owns; messages carry only offsets.
 */
const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('worker_threads');
const { pathToFileURL } = require('url');
let tf = null;
let model = null;
let layout = null; // { weights: [{ shape, offset, size, trainable }], trainable: [index], nonTrainable: [index] }
let weightsVersion = -1;
let shared = null; // { weights: SAB, grads: SAB, stats: SAB }

const booted = (async () => {
  if (workerData.tsx) {
    const api = await import(pathToFileURL(workerData.tsx).href);
    (api.register || api.default.register)();
  }
  const mod = await import(pathToFileURL(workerData.entry).href);
  tf = mod.tf;
  await mod.initRuntime({ backend: workerData.backend });
  return tf.getBackend();
})();
// A failed start-up is reported to the 'init' request that awaits it, not as an unhandled rejection.
booted.catch(() => {});

function f32(ref) { return new Float32Array(ref.sab, ref.byteOffset, ref.length); }

function lossFn(name) {
  const m = tf.metrics;
  switch (name) {
    case 'categoricalCrossentropy': return m.categoricalCrossentropy;
    case 'binaryCrossentropy': return m.binaryCrossentropy;
    case 'meanSquaredError': case 'mse': return m.meanSquaredError;
    case 'meanAbsoluteError': case 'mae': return m.meanAbsoluteError;
    default: throw new Error('unsupported loss ' + JSON.stringify(name));
  }
}

function correctCount(name, y, p) {
  if (name === 'binaryCrossentropy') {
    return tf.equal(tf.greater(y, 0.5), tf.greater(p, 0.5)).sum().dataSync()[0] / (p.shape[1] || 1);
  }
  return tf.equal(tf.argMax(y, -1), tf.argMax(p, -1)).sum().dataSync()[0];
}

function syncWeights(version) {
  if (version === weightsVersion) return;
  const ws = model.weights;
  for (let i = 0; i < ws.length; i++) {
    const w = layout.weights[i];
    const t = tf.tensor(new Float32Array(shared.weights, w.offset * 4, w.size), w.shape, 'float32');
    ws[i].write(t);
    t.dispose();
  }
  weightsVersion = version;
}

const handlers = {
  async init(msg) {
    const backend = await booted;
    const a = msg.artifacts;
    model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, weightData: a.weightData,
    }));
    if (msg.layout) {
      layout = msg.layout;
      shared = msg.shared;
      if (model.weights.length !== layout.weights.length) {
        throw new Error('replica has ' + model.weights.length + ' weights, expected ' + layout.weights.length);
      }
      for (let i = 0; i < layout.weights.length; i++) {
        const got = model.weights[i].shape.join('x'), want = layout.weights[i].shape.join('x');
        if (got !== want) throw new Error('replica weight ' + i + ' has shape ' + got + ', expected ' + want);
      }
    }
    const out = model.outputs[0];
    return { backend, outputShape: out ? out.shape : [] };
  },
  predict(msg) {
    const out = f32(msg.out);
    tf.tidy(() => {
      const x = tf.tensor(f32(msg.x), msg.shape, 'float32');
      // tfjs's default predict batch is 32; a shard is already the caller's batch slice.
      const y = model.predict(x, { batchSize: Math.max(1, Math.min(msg.shape[0], 256)) });
      const t = Array.isArray(y) ? y[0] : y;
      if (t.size !== out.length) {
        throw new Error('model output has ' + t.size + ' values (shape [' + t.shape + ']), expected ' + out.length);
      }
      out.set(t.dataSync());
    });
    return {};
  },
  grad(msg) {
    const started = performance.now();
    syncWeights(msg.weightsVersion);
    const loss = lossFn(msg.loss);
    const trainable = layout.trainable.map((i) => model.weights[i]);
    let lossValue = 0, correct = 0;
    tf.tidy(() => {
      const x = tf.tensor(f32(msg.x), msg.xShape, 'float32');
      const y = tf.tensor(f32(msg.y), msg.yShape, 'float32');
      const vars = trainable.map((w) => w.read());
      const { value, grads } = tf.variableGrads(() => {
        const p = model.apply(x, { training: true });
        const l = tf.mean(loss(y, p));
        correct = tf.tidy(() => correctCount(msg.loss, y, p));
        return l;
      }, vars);
      lossValue = value.dataSync()[0];
      const g = new Float32Array(shared.grads);
      for (let k = 0; k < vars.length; k++) {
        const w = layout.weights[layout.trainable[k]];
        g.set(grads[vars[k].name].dataSync(), w.gradOffset);
      }
      const s = new Float32Array(shared.stats);
      for (const i of layout.nonTrainable) {
        const w = layout.weights[i];
        s.set(model.weights[i].read().dataSync(), w.statOffset);
      }
    });
    // The replica's non-trainable weights (BatchNorm moving stats) changed in the forward pass;
    // the main thread merges them and republishes, so the next step re-reads them.
    if (layout.nonTrainable.length > 0) weightsVersion = -1;
    return { loss: lossValue, correct, ms: performance.now() - started };
  },
  fail(msg) { throw new Error(msg.message); },
  exit(msg) { process.exit(msg.code); },
};

parentPort.on('message', async (msg) => {
  try {
    const h = handlers[msg.type];
    if (!h) throw new Error('unknown request type ' + JSON.stringify(msg.type));
    const result = await h(msg);
    parentPort.postMessage({ id: msg.id, ok: true, ...result });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, error: { name: e && e.name, message: e && e.message || String(e), stack: e && e.stack } });
  }
});
`;

/** @internal Where a worker gets `tf` and `initRuntime` from. */
export interface WorkerEntry {
  /** Absolute path of the module to import (exports `tf` and `initRuntime`). */
  entry: string;
  /** Absolute path of tsx's ESM API, when `entry` is TypeScript source. */
  tsx?: string;
}

function ownFile(): string | undefined {
  if (typeof __filename === 'string' && __filename !== '') return __filename;
  try {
    const url: unknown = import.meta.url;
    return typeof url === 'string' && url !== '' ? fileURLToPath(url) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @internal
 * The module a worker imports: this very bundle (`dist/index.js` or `dist/index.cjs`, which export
 * `tf` and `initRuntime`), or `src/index.ts` plus tsx when this file runs from source (vitest).
 */
export function defaultWorkerEntry(): WorkerEntry {
  const self = ownFile();
  if (self === undefined) {
    throw parallelError(
      'WORKER_FAILED',
      "Cannot locate @mlship/tf on disk for its workers; pass the `workerEntry` option (a path to @mlship/tf's dist/index.cjs)",
    );
  }
  if (!self.endsWith('.ts')) return { entry: self };
  const entry = path.resolve(path.dirname(self), '..', 'index.ts');
  const tsx = resolveFromAnchors('tsx/esm/api');
  if (!tsx.ok) {
    throw parallelError(
      'WORKER_FAILED',
      `@mlship/tf runs from TypeScript source (${self}), so its workers need tsx to import ${entry}, but tsx does not resolve`,
      { cause: tsx.error },
    );
  }
  // require.resolve picks tsx's CJS build of the API; its ESM build registers the loader properly.
  const mjs = tsx.path.replace(/\.cjs$/, '.mjs');
  return { entry, tsx: existsSync(mjs) ? mjs : tsx.path };
}

interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  type: string;
}

/**
 * @internal
 * One worker thread with its own TensorFlow.js engine, spoken to by request/response. A worker
 * is `unref()`'d while idle, so an undisposed pool never keeps a program alive, and `ref()`'d while
 * a request is pending, so a program awaiting a result does not exit under it.
 */
export class TfWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | undefined;
  private exiting = false;

  constructor(
    readonly index: number,
    entry: WorkerEntry,
    backend: string,
  ) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { entry: entry.entry, tsx: entry.tsx, backend },
    });
    this.worker.unref();
    this.worker.on(
      'message',
      (msg: { id: number; ok: boolean; error?: Record<string, string> }) => {
        const p = this.pending.get(msg.id);
        if (p === undefined) return;
        this.pending.delete(msg.id);
        this.updateRef();
        if (msg.ok) {
          p.resolve(msg);
        } else {
          const cause = remoteError(msg.error ?? {});
          p.reject(
            parallelError(
              'WORKER_FAILED',
              `Worker ${this.index} failed a '${p.type}' request: ${cause.message}`,
              {
                cause,
                data: { worker: this.index, request: p.type },
              },
            ),
          );
        }
      },
    );
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => {
      if (!this.exiting) this.fail(new Error(`exit code ${code}`));
      this.dead ??= parallelError('POOL_DISPOSED', `Worker ${this.index} was terminated`);
    });
  }

  private fail(cause: Error): void {
    if (this.dead !== undefined) return;
    this.dead = parallelError(
      'WORKER_EXITED',
      `Worker ${this.index} exited or crashed (${cause.message}); expected it to stay up until dispose()`,
      { cause, data: { worker: this.index } },
    );
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
    this.updateRef();
  }

  private updateRef(): void {
    if (this.pending.size > 0 && this.dead === undefined) this.worker.ref();
    else this.worker.unref();
  }

  /** Sends a request; resolves with the worker's answer, rejects with a TfError. */
  request<T extends Record<string, unknown>>(
    type: string,
    body: Record<string, unknown> = {},
    transfer: ArrayBuffer[] = [],
  ): Promise<T> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, {
        resolve: resolve as (v: Record<string, unknown>) => void,
        reject,
        type,
      });
      this.updateRef();
      try {
        this.worker.postMessage({ ...body, id, type }, transfer);
      } catch (e) {
        this.pending.delete(id);
        this.updateRef();
        reject(
          parallelError(
            'WORKER_FAILED',
            `Could not send a '${type}' request to worker ${this.index}`,
            { cause: e },
          ),
        );
      }
    });
  }

  /** Terminates the thread; pending requests reject with `POOL_DISPOSED`. */
  async terminate(): Promise<void> {
    this.exiting = true;
    const err = parallelError(
      'POOL_DISPOSED',
      `Worker ${this.index} was disposed while a request was pending`,
    );
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.dead ??= parallelError('POOL_DISPOSED', `Worker ${this.index} was disposed`);
    await this.worker.terminate();
  }
}

/** @internal A growable SharedArrayBuffer (replaced by a bigger one when too small). */
export class SharedArena {
  private buffer = new SharedArrayBuffer(0);

  /** A buffer of at least `floats` float32s (contents not preserved on growth). */
  get(floats: number): SharedArrayBuffer {
    if (this.buffer.byteLength < floats * 4) {
      this.buffer = new SharedArrayBuffer(Math.max(floats * 4, this.buffer.byteLength * 2));
    }
    return this.buffer;
  }
}

/** @internal Splits `n` rows into `parts` contiguous shards as even as possible: [start, count][]. */
export function shardRows(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const count = Math.floor(n / parts) + (i < n % parts ? 1 : 0);
    out.push([start, count]);
    start += count;
  }
  return out;
}
