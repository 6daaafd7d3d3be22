import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { patchBatchNormalization } from './batchnorm';
import { TfError, describeError } from './errors';
import { checkTfOptions } from './options';
import { registerWasmTrainingKernels } from './kernels/index';
import { resolveFromAnchors } from './resolve';
import { MAX_WASM_THREADS, enableWasmThreads } from './parallel/threads';

/** A backend mlship can run on. `tensorflow` is `@tensorflow/tfjs-node` (native libtensorflow). */
export type Backend = 'tensorflow' | 'wasm' | 'cpu';

/** What {@link initRuntime} may be asked for: a backend, or `auto` (best available). */
export type BackendRequest = 'auto' | Backend;

/** Options of {@link initRuntime}. */
export interface RuntimeOptions {
  /**
   * The backend to use. `auto` (the default when neither this nor `MLSHIP_BACKEND` is set) picks
   * `tensorflow` when `@tensorflow/tfjs-node` is installed and loads, else `wasm`, else `cpu`.
   * `tfjs-node` is accepted as an alias of `tensorflow`.
   */
  backend?: BackendRequest | 'tfjs-node';
  /** Environment to read `MLSHIP_BACKEND` (and `MLSHIP_WASM_THREADS`) from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * Threads for the wasm backend's XNNPACK kernels (see {@link enableWasmThreads}). Default 1, or
   * `MLSHIP_WASM_THREADS` from `env`. Opt-in: on an idle 2-core machine 2 threads train model A
   * about 1.4x faster, but when other work keeps the cores busy every step waits for its slowest
   * thread and it is slower than one. Only honoured the first time the wasm backend starts (the
   * module is created once per process). If the threaded module fails to start, the
   * single-threaded one is used and `reason` says why.
   */
  threads?: number;
}

/** What {@link initRuntime} set up. */
export interface RuntimeInfo {
  /** The backend now active. */
  backend: Backend;
  /** What was asked for (`auto`, or the explicit backend). */
  requested: string;
  /** Why this backend, in words (e.g. why tfjs-node was not used). */
  reason: string;
  /** The kernels mlship registered or replaced on this backend. */
  kernels: string[];
  /** Threads the backend's kernels run on (wasm: XNNPACK threads; 1 for cpu; 0 = native, unknown). */
  threads: number;
}

const TFJS_NODE = '@tensorflow/tfjs-node';
const RUNTIME_OPTIONS: readonly (keyof RuntimeOptions)[] = ['backend', 'env', 'threads'];
const BACKENDS: readonly string[] = ['auto', 'tensorflow', 'tfjs-node', 'wasm', 'cpu'];

let current:
  { requested: BackendRequest; settled: boolean; promise: Promise<RuntimeInfo> } | undefined;
let lastInfo: RuntimeInfo | undefined;
const kernelsByBackend = new Map<Backend, string[]>();

/**
 * Initialises TensorFlow.js for every mlship package: picks and readies the backend, registers
 * mlship's wasm training kernels and applies the BatchNormalization fix
 * ({@link patchBatchNormalization}).
 *
 * Idempotent and concurrency-safe: concurrent calls share one promise, and a call that asks for
 * what is already set up returns the same result. A call with no explicit choice (`auto`) after
 * the runtime is set up keeps the current backend; a later call explicitly asking for a
 * different backend switches to it (tensors created on the old backend move lazily on read, as
 * with `tf.setBackend`). Calls are serialised, so a switch never interleaves with another one.
 *
 * @param options - `backend` (default: `MLSHIP_BACKEND` from `env`, else `auto`), `env`, `threads`.
 * @returns the active backend, what was requested, why, the kernels mlship registered, threads.
 * @throws TfError `INVALID_OPTION` for an unknown backend name or option key, or a bad thread
 *   count; `BACKEND_UNAVAILABLE` when an explicitly requested backend is not installed or does not
 *   load (the message says how to get it); `BACKEND_INIT_FAILED` when TensorFlow.js cannot
 *   initialise it.
 * @example
 * ```ts
 * const info = await initRuntime();
 * console.log(info.backend, info.reason); // "wasm", "auto: @tensorflow/tfjs-node not installed ...; using wasm (SIMD)"
 * ```
 */
export function initRuntime(options: RuntimeOptions = {}): Promise<RuntimeInfo> {
  let requested: BackendRequest;
  let source: string;
  let threads: number;
  try {
    checkTfOptions(options, RUNTIME_OPTIONS, 'initRuntime options');
    [requested, source] = parseRequest(options);
    threads = parseThreads(options);
  } catch (e) {
    // Bad options: the checks above throw TfErrors only.
    return Promise.reject(e instanceof Error ? e : new TfError('INVALID_OPTION', String(e)));
  }
  if (
    current !== undefined &&
    current.settled &&
    lastInfo !== undefined &&
    tf.getBackend() !== lastInfo.backend
  ) {
    // Someone called tf.setBackend directly since: set the runtime up again rather than report stale info.
    current = undefined;
  }
  if (current !== undefined && (current.requested === requested || requested === 'auto')) {
    return current.promise;
  }
  const prior = current;
  const previous = prior?.promise.catch(() => undefined) ?? Promise.resolve(undefined);
  const entry = {
    requested,
    settled: false,
    promise: previous.then(() => setUp(requested, source, threads)),
  };
  current = entry;
  entry.promise.then(
    (info) => {
      lastInfo = info;
      entry.settled = true;
    },
    () => {
      // A failed set-up is not cached: the next call tries again, and the runtime that was
      // active before (tf.setBackend leaves it in place) stays the current one.
      if (current === entry) current = prior?.settled === true ? prior : undefined;
    },
  );
  return entry.promise;
}

/**
 * The result of the last successful {@link initRuntime}, or `undefined` before one completed.
 *
 * @returns the active runtime description, or undefined.
 * @throws never.
 * @example
 * ```ts
 * const info = getRuntimeInfo();
 * if (info === undefined) await initRuntime();
 * ```
 */
export function getRuntimeInfo(): RuntimeInfo | undefined {
  return lastInfo === undefined ? undefined : { ...lastInfo, kernels: [...lastInfo.kernels] };
}

function parseThreads(options: RuntimeOptions): number {
  const env = options.env ?? process.env;
  let raw: unknown = options.threads;
  let source = 'options.threads';
  if (raw === undefined) {
    const fromEnv = env['MLSHIP_WASM_THREADS'];
    if (fromEnv === undefined || fromEnv.trim() === '') return 1;
    raw = Number(fromEnv.trim());
    source = `MLSHIP_WASM_THREADS=${fromEnv}`;
  }
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > MAX_WASM_THREADS) {
    throw new TfError(
      'INVALID_OPTION',
      `Invalid thread count ${JSON.stringify(raw)} (from ${source}); expected an integer in [1, ${MAX_WASM_THREADS}]`,
      { data: { expected: `integer in [1, ${MAX_WASM_THREADS}]`, actual: raw } },
    );
  }
  return raw;
}

function parseRequest(options: RuntimeOptions): [BackendRequest, string] {
  const env = options.env ?? process.env;
  let raw: string;
  let source: string;
  if (options.backend !== undefined) {
    raw = String(options.backend);
    source = 'options.backend';
  } else if (env['MLSHIP_BACKEND'] !== undefined && env['MLSHIP_BACKEND'] !== '') {
    raw = env['MLSHIP_BACKEND'].trim().toLowerCase();
    source = `MLSHIP_BACKEND=${env['MLSHIP_BACKEND']}`;
  } else {
    return ['auto', 'default'];
  }
  if (!BACKENDS.includes(raw)) {
    throw new TfError(
      'INVALID_OPTION',
      `Unknown backend ${JSON.stringify(raw)} (from ${source}); expected one of auto, tensorflow (alias tfjs-node), wasm, cpu`,
      { data: { backend: raw, expected: BACKENDS } },
    );
  }
  const request = (raw === 'tfjs-node' ? 'tensorflow' : raw) as BackendRequest;
  return [request, source];
}

type Attempt =
  | { ok: true; detail: string; threads: number }
  | { ok: false; missing: boolean; reason: string; cause?: unknown };

async function setUp(
  requested: BackendRequest,
  source: string,
  threads: number,
): Promise<RuntimeInfo> {
  patchBatchNormalization();
  if (requested === 'auto') {
    const skipped: string[] = [];
    for (const backend of ['tensorflow', 'wasm', 'cpu'] as const) {
      const attempt = await tryBackend(backend, threads);
      if (attempt.ok) {
        const prefix = skipped.length > 0 ? `auto: ${skipped.join('; ')}; ` : 'auto: ';
        return finish(backend, requested, `${prefix}using ${attempt.detail}`, attempt.threads);
      }
      skipped.push(attempt.reason);
    }
    throw new TfError(
      'BACKEND_INIT_FAILED',
      `No TensorFlow.js backend could be initialised: ${skipped.join('; ')}`,
      {
        data: { backend: 'auto' },
      },
    );
  }
  const attempt = await tryBackend(requested, threads);
  if (!attempt.ok) {
    const how =
      requested === 'tensorflow'
        ? `install it with \`npm install ${TFJS_NODE}@${tf.version.tfjs}\` (its install script downloads libtensorflow, so it needs network access), or ask for backend 'wasm' or 'auto'`
        : `reinstall @mlship/tf's dependencies (@tensorflow/tfjs@${tf.version.tfjs}, @tensorflow/tfjs-backend-wasm), or ask for backend 'cpu' or 'auto'`;
    throw new TfError(
      attempt.missing ? 'BACKEND_UNAVAILABLE' : 'BACKEND_INIT_FAILED',
      `Backend '${requested}' was requested (${source}) but ${attempt.reason}; ${how}`,
      { cause: attempt.cause, data: { backend: requested } },
    );
  }
  return finish(
    requested,
    requested,
    `requested by ${source}; using ${attempt.detail}`,
    attempt.threads,
  );
}

function finish(
  backend: Backend,
  requested: BackendRequest,
  reason: string,
  threads: number,
): RuntimeInfo {
  let kernels = kernelsByBackend.get(backend);
  if (kernels === undefined) {
    // Registration is global in the tfjs kernel registry; doing it once per process avoids
    // tfjs's "already registered" warnings when the runtime switches back and forth.
    kernels = backend === 'wasm' ? registerWasmTrainingKernels() : [];
    kernelsByBackend.set(backend, kernels);
  }
  return { backend, requested, reason, kernels: [...kernels], threads };
}

async function tryBackend(backend: Backend, threads: number): Promise<Attempt> {
  switch (backend) {
    case 'tensorflow':
      return tryTensorflow();
    case 'wasm':
      return tryWasm(threads);
    case 'cpu': {
      const attempt = await activate('cpu', 'cpu (pure JavaScript, slowest)', 1);
      // tfjs-backend-cpu prints a "install tfjs-node" banner on first use in Node; mlship reports
      // the same advice in RuntimeInfo.reason instead (libraries do not print).
      const cpu = tf.backend() as unknown as { firstUse?: boolean };
      if (attempt.ok && typeof cpu.firstUse === 'boolean') cpu.firstUse = false;
      return attempt;
    }
  }
}

async function activate(backend: Backend, detail: string, threads: number): Promise<Attempt> {
  try {
    const ok = await tf.setBackend(backend);
    if (!ok)
      return { ok: false, missing: false, reason: `tf.setBackend('${backend}') returned false` };
    await tf.ready();
    return { ok: true, detail, threads };
  } catch (e) {
    return {
      ok: false,
      missing: false,
      reason: `${backend} failed to initialise (${describeError(e)})`,
      cause: e,
    };
  }
}

async function tryTensorflow(): Promise<Attempt> {
  if (
    tf.findBackendFactory('tensorflow') === null ||
    tf.findBackendFactory('tensorflow') === undefined
  ) {
    const resolved = resolveFromAnchors(TFJS_NODE);
    if (!resolved.ok) {
      return {
        ok: false,
        missing: true,
        reason: `${TFJS_NODE} not installed (${describeError(resolved.error)})`,
        cause: resolved.error,
      };
    }
    // tfjs-node registers itself into the @tensorflow/tfjs it resolves; a different copy or
    // version would register into another engine (or crash), so check before loading it.
    try {
      const fromNode = createRequire(resolved.path);
      const tfjsJson = fromNode.resolve('@tensorflow/tfjs/package.json');
      const nodeTfjs = fromNode(tfjsJson) as { version?: string };
      if (nodeTfjs.version !== undefined && nodeTfjs.version !== tf.version.tfjs) {
        return {
          ok: false,
          missing: true,
          reason: `${TFJS_NODE} at ${resolved.path} uses @tensorflow/tfjs ${nodeTfjs.version} (${tfjsJson}) but mlship uses ${tf.version.tfjs}; install @tensorflow/tfjs-node@${tf.version.tfjs}`,
        };
      }
    } catch {
      // tfjs-node's own dependency check below will report a broken install.
    }
    try {
      resolved.require(TFJS_NODE);
    } catch (e) {
      return {
        ok: false,
        missing: true,
        reason: `${TFJS_NODE} is installed (${resolved.path}) but failed to load (${describeError(e)})`,
        cause: e,
      };
    }
    if (!tf.findBackendFactory('tensorflow')) {
      return {
        ok: false,
        missing: true,
        reason: `${TFJS_NODE} loaded but registered its backend with another copy of @tensorflow/tfjs (need exactly ${tf.version.tfjs}, deduplicated)`,
      };
    }
  }
  return activate('tensorflow', `tensorflow (${TFJS_NODE}, native libtensorflow)`, 0);
}

async function tryWasm(threads: number): Promise<Attempt> {
  if (!tf.findBackendFactory('wasm')) {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
    } catch (e) {
      return {
        ok: false,
        missing: true,
        reason: `@tensorflow/tfjs-backend-wasm failed to load (${describeError(e)})`,
        cause: e,
      };
    }
  }
  let threadNote = '';
  if (threads > 1) {
    if (!wasmStarted()) {
      try {
        await enableWasmThreads(threads);
      } catch (e) {
        // The single-threaded module still works: use it, and say why threads are off.
        threadNote = `; ${threads} threads requested but the threaded module failed (${describeError(e)})`;
      }
    } else if ((await wasmThreadCount()) !== threads) {
      threadNote = `; ${threads} threads requested but the wasm module already runs with ${await wasmThreadCount()} (threads apply only before wasm first starts)`;
    }
  }
  const attempt = await activate('wasm', 'wasm', 1);
  if (!attempt.ok) return attempt;
  const simd = await flag('WASM_HAS_SIMD_SUPPORT');
  const multithreaded = await flag('WASM_HAS_MULTITHREAD_SUPPORT');
  const running = multithreaded ? await wasmThreadCount() : 1;
  return {
    ok: true,
    threads: running,
    detail: `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${running > 1 ? `${running} threads` : 'single thread'}${threadNote})`,
  };
}

/** True once the wasm backend's module exists in this process (its thread count is then fixed). */
function wasmStarted(): boolean {
  // tf.findBackend would initialise the backend as a side effect; the registry does not.
  const engine = tf.engine() as unknown as { registry: Record<string, unknown> };
  return engine.registry['wasm'] != null;
}

async function wasmThreadCount(): Promise<number> {
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as {
    getThreadsCount?: () => number;
  };
  const count = wasm.getThreadsCount?.();
  return typeof count === 'number' && count > 0 ? count : 1;
}

async function flag(name: string): Promise<boolean> {
  try {
    return Boolean(await tf.env().getAsync(name));
  } catch {
    return false;
  }
}
