// The program every pool or trainer worker thread runs: a build entry of its own (dist/worker.js
// and dist/worker.cjs next to dist/index.*), started by worker-host.ts. It sets up the same runtime
// as the main thread (initRuntime: the backend with mlship's training kernels and BatchNorm fix, in
// this thread's own engine), builds a replica of the model, and answers requests (protocol.ts).
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initRuntime } from '../runtime';
import { correctCount, lossFunction } from './loss';
import type {
  GradRequest,
  InitRequest,
  PredictRequest,
  SharedF32,
  WireError,
  WireLayout,
  WorkerReply,
  WorkerRequest,
  WorkerResults,
  WorkerStart,
} from './protocol';

if (parentPort === null) {
  throw new Error('@mlship/tf worker: this module runs only as a worker thread (see worker-host)');
}
const port = parentPort;
const start = workerData as WorkerStart;

let model: tf.LayersModel | undefined;
let layout: WireLayout | undefined;
let shared: NonNullable<InitRequest['shared']> | undefined;
let weightsVersion = -1;

const booted = initRuntime({ backend: start.backend }).then((info) => info.backend);
// A failed start-up is reported to the 'init' request that awaits it, not as an unhandled rejection.
booted.catch(() => undefined);

const f32 = (ref: SharedF32): Float32Array => new Float32Array(ref.sab, ref.byteOffset, ref.length);

function replica(): tf.LayersModel {
  if (model === undefined) throw new Error("no replica yet: the first request must be 'init'");
  return model;
}

/** Reads the main thread's weights of `version` into the replica (once per version). */
function syncWeights(m: tf.LayersModel, l: WireLayout, version: number): void {
  if (version === weightsVersion || shared === undefined) return;
  const weights = new Float32Array(shared.weights);
  m.weights.forEach((w, i) => {
    const at = l.weights[i];
    if (at === undefined) return;
    const t = tf.tensor(weights.subarray(at.offset, at.offset + at.size), at.shape, 'float32');
    w.write(t);
    t.dispose();
  });
  weightsVersion = version;
}

async function init(msg: InitRequest): Promise<WorkerResults['init']> {
  const backend = await booted;
  const m = await tf.loadLayersModel(tf.io.fromMemory(msg.artifacts));
  if (msg.layout !== undefined) {
    if (m.weights.length !== msg.layout.weights.length) {
      throw new Error(
        `replica has ${m.weights.length} weights, expected ${msg.layout.weights.length}`,
      );
    }
    m.weights.forEach((w, i) => {
      const got = w.shape.join('x');
      const want = msg.layout?.weights[i]?.shape.join('x');
      if (got !== want) throw new Error(`replica weight ${i} has shape ${got}, expected ${want}`);
    });
    layout = msg.layout;
    shared = msg.shared;
  }
  model = m;
  return { backend, outputShape: m.outputs[0]?.shape ?? [] };
}

function predict(msg: PredictRequest): WorkerResults['predict'] {
  const m = replica();
  const out = f32(msg.out);
  tf.tidy(() => {
    const x = tf.tensor(f32(msg.x), msg.shape, 'float32');
    // tfjs's default predict batch is 32; a shard is already the caller's batch slice.
    const y = m.predict(x, { batchSize: Math.max(1, Math.min(msg.shape[0] ?? 1, 256)) });
    const t = Array.isArray(y) ? y[0] : y;
    if (t === undefined || t.size !== out.length) {
      throw new Error(
        `model output has ${t?.size} values (shape [${t?.shape.join(',')}]), expected ${out.length}`,
      );
    }
    out.set(t.dataSync());
  });
  return {};
}

function grad(msg: GradRequest): WorkerResults['grad'] {
  const started = performance.now();
  const m = replica();
  if (layout === undefined || shared === undefined)
    throw new Error("no trainer layout: this replica was built for inference, not 'grad'");
  const l = layout;
  const buffers = shared;
  syncWeights(m, l, msg.weightsVersion);
  const loss = lossFunction(msg.loss);
  let lossValue = 0;
  let correct = 0;
  tf.tidy(() => {
    const x = tf.tensor(f32(msg.x), msg.xShape, 'float32');
    const y = tf.tensor(f32(msg.y), msg.yShape, 'float32');
    const vars = l.trainable.map((i) => m.weights[i]?.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => {
      const p = m.apply(x, { training: true }) as tf.Tensor;
      correct = correctCount(msg.loss, y, p);
      return tf.mean<tf.Scalar>(loss(y, p));
    }, vars);
    lossValue = value.dataSync()[0] ?? Number.NaN;
    const g = new Float32Array(buffers.grads);
    vars.forEach((v, k) => {
      const at = l.weights[l.trainable[k] ?? -1];
      const values = grads[v.name];
      if (at !== undefined && values !== undefined) g.set(values.dataSync(), at.gradOffset);
    });
    const s = new Float32Array(buffers.stats);
    for (const i of l.nonTrainable) {
      const at = l.weights[i];
      const w = m.weights[i];
      if (at !== undefined && w !== undefined) s.set(w.read().dataSync(), at.statOffset);
    }
  });
  // The replica's non-trainable weights (BatchNorm moving stats) changed in the forward pass;
  // the main thread merges them and republishes, so the next step re-reads them.
  if (l.nonTrainable.length > 0) weightsVersion = -1;
  return { loss: lossValue, correct, ms: performance.now() - started };
}

async function answer(msg: WorkerRequest): Promise<Record<string, unknown>> {
  switch (msg.type) {
    case 'init':
      return init(msg);
    case 'predict':
      return predict(msg);
    case 'grad':
      return grad(msg);
    case 'exit':
      process.exit(msg.code);
    // falls through: process.exit does not return
    default: {
      const unknown: never = msg;
      throw new Error(
        `unknown request type ${JSON.stringify((unknown as { type?: unknown }).type)}`,
      );
    }
  }
}

function wireError(e: unknown): WireError {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { message: String(e) };
}

port.on('message', (msg: WorkerRequest & { id: number }) => {
  answer(msg).then(
    (result) => port.postMessage({ ...result, id: msg.id, ok: true } satisfies WorkerReply),
    (e: unknown) =>
      port.postMessage({ id: msg.id, ok: false, error: wireError(e) } satisfies WorkerReply),
  );
});
