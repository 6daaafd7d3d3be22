import os from 'node:os';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';
import { resolveObjectURL } from 'node:buffer';
import * as tf from '@tensorflow/tfjs';
import { TfError, describeError } from '../errors';
import { checkTfOptions } from '../options';
import { workerExecArgv } from './exec-argv';

/**
 * The most threads XNNPACK can use in tfjs-backend-wasm 4.22 (its emscripten pthread pool).
 *
 * @example
 * ```ts
 * await enableWasmThreads(Math.min(os.availableParallelism(), MAX_WASM_THREADS));
 * ```
 */
export const MAX_WASM_THREADS = 8;

/** What {@link enableWasmThreads} set up. */
export interface WasmThreadsInfo {
  /** Threads XNNPACK's threadpool uses (the calling thread included). */
  threads: number;
  /** True when the threaded SIMD binary (`tfjs-backend-wasm-threaded-simd.wasm`) is running. */
  multithreaded: boolean;
  /** Milliseconds the wasm backend took to initialise (0 when it already was). */
  initMs: number;
}

/** Options of {@link enableWasmThreads}. */
export interface WasmThreadsOptions {
  /**
   * How long to wait for the emscripten pthread workers to load before giving up, in ms.
   * Default 60000.
   */
  timeoutMs?: number;
}

interface WasmModule {
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/**
 * The code of every emscripten pthread worker, run with `new Worker(code, { eval: true })`.
 *
 * tfjs-backend-wasm hands emscripten blob: URLs (the pthread worker script, and the factory of the
 * threaded module as a Blob) because it only supports threads in browsers (tfjs issue #3830).
 * Node cannot start a worker from a blob: URL, and a blob: URL made on one thread does not resolve
 * on another, but Blobs themselves can be cloned to a worker. So the main thread passes the worker
 * script as a Blob in `workerData`; here it is read, evaluated with emscripten's own `message`
 * listener captured, and every message is passed on in order once the factory Blob of the `load`
 * message has been read (Blob reads are async, emscripten's `importScripts` is sync).
 * The factory's source comes from the bundled Node build, so the bundle-level names it refers to
 * (`require$$0` = fs, ... `commonjsGlobal`) are provided as globals.
 */
const PTHREAD_BOOT = `
'use strict';
const wt = require('worker_threads');
const nodePath = require('path');
const parentPort = wt.parentPort;
const fail = (e) => { throw e; };
(async () => {
  const src = await wt.workerData.workerJs.text();
  const dir = process.cwd();
  Object.assign(globalThis, {
    require, require$$0: require('fs'), require$$1: require('path'), require$$3: require('perf_hooks'),
    require$$4: require('os'), commonjsGlobal: globalThis,
    __filename: nodePath.join(dir, 'mlship-wasm-pthread.js'), __dirname: dir, _scriptDir: undefined,
  });
  let listener = null;
  const realOn = parentPort.on;
  parentPort.on = function (ev, fn) {
    if (ev === 'message' && listener === null) { listener = fn; return this; }
    return realOn.call(this, ev, fn);
  };
  (0, eval)(src);
  parentPort.on = realOn;
  if (listener === null) throw new Error('the emscripten pthread script registered no message listener');
  let factorySrc = null;
  const importOriginal = globalThis.importScripts;
  globalThis.importScripts = (f) => (f === '@mlship/factory' ? (0, eval)(factorySrc) : importOriginal(f));
  let chain = Promise.resolve();
  realOn.call(parentPort, 'message', (data) => {
    chain = chain.then(async () => {
      if (data && data.cmd === 'load' && data.urlOrBlob && typeof data.urlOrBlob === 'object') {
        factorySrc = await data.urlOrBlob.text();
        data.urlOrBlob = '@mlship/factory';
      }
      listener(data);
    }).catch(fail);
  });
})().catch(fail);
`;

/**
 * @internal
 * The pthread workers of one start of the threaded module, while it starts: their errors go to
 * `fail` instead of emscripten's handler, which throws from an event listener and so kills the
 * process (tfjs issue #3830 territory: emscripten's Node pthread support assumes it cannot fail).
 */
export interface PthreadStartup {
  /** Every pthread worker created so far. */
  readonly workers: Set<NodeWorker>;
  /** Called with the first error a pthread worker reports. */
  fail(error: Error): void;
  /** False once the module has started: later errors reach emscripten's handler again. */
  active: boolean;
}

let startup: PthreadStartup | undefined;

/**
 * @internal
 * A `Worker` that starts emscripten's blob: URL pthread scripts (see PTHREAD_BOOT), without the
 * main program's input flags (`--input-type=module` would make the boot script an ES module), and
 * routes a failing pthread worker to the start-up in progress ({@link PthreadStartup}).
 */
export class PthreadWorker extends NodeWorker {
  private readonly startup = startup;

  constructor(script: string | URL, options?: WorkerOptions) {
    if (typeof script === 'string' && script.startsWith('blob:')) {
      const blob = resolveObjectURL(script);
      if (blob === undefined) throw new Error(`@mlship/tf: cannot resolve ${script}`);
      super(PTHREAD_BOOT, {
        eval: true,
        workerData: { workerJs: blob },
        execArgv: workerExecArgv(),
      });
    } else {
      super(script, options);
    }
    this.startup?.workers.add(this);
  }

  // Worker#on's overloads end in a catch-all whose listener takes any arguments; matching it is
  // what lets this override stand for all of them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    const watch = this.startup;
    if (event !== 'error' || watch === undefined) return super.on(event, listener);
    return super.on('error', (e: Error) => {
      if (watch.active) watch.fail(e);
      else listener(e);
    });
  }
}

/**
 * @internal
 * Runs `start` with pthread workers reporting to a {@link PthreadStartup}: resolves with its result,
 * or rejects with the first pthread worker's error (terminating every pthread worker started).
 */
export async function watchPthreadStartup<T>(
  start: (failed: Promise<never>) => Promise<T>,
): Promise<T> {
  let fail: (e: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => undefined);
  const watch: PthreadStartup = { workers: new Set(), fail: (e) => fail(e), active: true };
  startup = watch;
  try {
    return await start(failed);
  } catch (e) {
    await Promise.all([...watch.workers].map((w) => w.terminate().catch(() => undefined)));
    throw e;
  } finally {
    watch.active = false;
    if (startup === watch) startup = undefined;
  }
}

/**
 * Runs `init` with the Node patches the threaded wasm module needs, removed afterwards:
 * - `globalThis.Worker` reads as {@link PthreadWorker} (emscripten assigns Node's Worker to it
 *   right before creating its pool, so the assignment is kept aside instead);
 * - `os.cpus()` reports at least 2 * threads CPUs, because tfjs's C++ caps the threadpool at half
 *   the logical cores (it assumes hyper-threading): on a 2-core machine that cap is 1.
 */
async function withPthreadPatches<T>(
  threads: number,
  init: (failed: Promise<never>) => Promise<T>,
): Promise<T> {
  const workerDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  const mutableOs = os as { cpus: typeof os.cpus };
  const cpus = mutableOs.cpus;
  let assigned: unknown = workerDescriptor?.value;
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => PthreadWorker,
    set: (value: unknown) => {
      assigned = value;
    },
  });
  mutableOs.cpus = () => {
    const real = cpus.call(os);
    const out = [...real];
    while (out.length < 2 * threads && real.length > 0) out.push(...real);
    return out;
  };
  try {
    return await watchPthreadStartup(init);
  } finally {
    mutableOs.cpus = cpus;
    if (workerDescriptor !== undefined) {
      Object.defineProperty(globalThis, 'Worker', workerDescriptor);
    } else if (assigned !== undefined) {
      // emscripten left Node's Worker as a global; keep that (it may look it up again).
      Object.defineProperty(globalThis, 'Worker', {
        configurable: true,
        writable: true,
        value: assigned,
      });
    } else {
      delete (globalThis as { Worker?: unknown }).Worker;
    }
  }
}

function wasmInitialised(): boolean {
  // tf.findBackend would initialise the backend as a side effect; the registry does not.
  const registry = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
  return registry['wasm'] != null;
}

let pending: Promise<WasmThreadsInfo> | undefined;

/**
 * Initialises and activates the wasm backend with XNNPACK running on `threads` threads (the
 * calling thread plus `threads - 1` emscripten pthreads on `worker_threads`), using the threaded
 * SIMD binary that tfjs-backend-wasm ships but disables in Node. Every XNNPACK kernel (conv,
 * matmul, pooling, their gradients built on them) then splits its work across the threads;
 * element-wise kernels and the per-op JavaScript overhead stay on the calling thread.
 *
 * Must run before anything else initialises the wasm backend (`initRuntime`, `tf.setBackend('wasm')`):
 * the wasm module is created once per process. A repeated call with the same thread count returns
 * the current state. `threads === 1` initialises the ordinary single-threaded SIMD module.
 * Do not combine with a worker pool on the same cores ({@link createInferencePool},
 * {@link createParallelTrainer}): both would compete for the same cores.
 *
 * @param threads - threads for XNNPACK, an integer in [1, 8]; default: the machine's available
 *   parallelism, at most 8.
 * @param options - `timeoutMs` for loading the pthread workers.
 * @returns the thread count in use, whether the threaded module runs, and the init time.
 * @throws TfError `INVALID_OPTION` when `threads` is not an integer in [1, 8], an option key is
 *   unknown, or the wasm backend is already initialised with a different thread count; `BACKEND_INIT_FAILED` when the threaded
 *   module fails to initialise or does not within `timeoutMs` (the multithread flag and thread
 *   count are reset, so a later `initRuntime` tries the single-threaded module).
 * @example
 * ```ts
 * import { tf, enableWasmThreads } from '@mlship/tf';
 * const info = await enableWasmThreads(2); // { threads: 2, multithreaded: true, initMs: 180 }
 * tf.getBackend(); // 'wasm'
 * ```
 */
export function enableWasmThreads(
  threads: number = defaultThreads(),
  options: WasmThreadsOptions = {},
): Promise<WasmThreadsInfo> {
  const run = (pending ?? Promise.resolve(undefined))
    .catch(() => undefined)
    .then(() => setUpThreads(threads, options));
  pending = run;
  return run;
}

function defaultThreads(): number {
  const n =
    typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(MAX_WASM_THREADS, n));
}

async function setUpThreads(
  threads: number,
  options: WasmThreadsOptions,
): Promise<WasmThreadsInfo> {
  checkTfOptions(options, ['timeoutMs'], 'enableWasmThreads options');
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new TfError(
      'INVALID_OPTION',
      `enableWasmThreads: threads must be an integer in [1, ${MAX_WASM_THREADS}], got ${String(threads)}`,
      { data: { expected: `integer in [1, ${MAX_WASM_THREADS}]`, actual: threads } },
    );
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TfError(
      'INVALID_OPTION',
      `enableWasmThreads: timeoutMs must be a positive number, got ${String(timeoutMs)}`,
      { data: { expected: 'positive number', actual: timeoutMs } },
    );
  }
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as WasmModule;
  if (wasmInitialised()) {
    const current = wasm.getThreadsCount();
    if (current !== threads) {
      throw new TfError(
        'INVALID_OPTION',
        `enableWasmThreads(${threads}): the wasm backend is already initialised with ${current} thread(s); call enableWasmThreads before initRuntime() or tf.setBackend('wasm')`,
        { data: { backend: 'wasm', expected: threads, actual: current } },
      );
    }
    if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
    return { threads: current, multithreaded: current > 1, initMs: 0 };
  }
  const env = tf.env();
  const started = performance.now();
  wasm.setThreadsCount(threads);
  if (threads === 1) {
    env.set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    await activateWasm(timeoutMs, threads);
  } else {
    assertWorkersAllowed(threads);
    env.set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    try {
      await withPthreadPatches(threads, (failed) => activateWasm(timeoutMs, threads, failed));
    } catch (e) {
      env.set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasm.setThreadsCount(-1);
      throw e;
    }
  }
  if (threads > 1) unrefPthreads();
  const actual = wasm.getThreadsCount();
  return {
    threads: actual,
    multithreaded: threads > 1,
    initMs: Math.round(performance.now() - started),
  };
}

/**
 * Node's permission model (`--experimental-permission` without `--allow-worker`) makes `new Worker`
 * throw inside emscripten's start-up, where tfjs logs it; say so before starting instead.
 */
function assertWorkersAllowed(threads: number): void {
  const permission = (process as { permission?: { has(scope: string): boolean } }).permission;
  if (permission !== undefined && !permission.has('worker')) {
    throw new TfError(
      'BACKEND_INIT_FAILED',
      `The threaded wasm backend (${threads} threads) needs worker threads, which this process may not start (Node's permission model without --allow-worker)`,
      { data: { backend: 'wasm', expected: threads } },
    );
  }
}

/**
 * emscripten `ref()`s a worker while a pthread runs on it; XNNPACK's pool threads run for the
 * life of the process, so without this a program using threads would never exit on its own.
 */
function unrefPthreads(): void {
  const backend = tf.findBackend('wasm') as unknown as {
    wasm?: { PThread?: { runningWorkers?: { unref?: () => void }[] } };
  } | null;
  for (const worker of backend?.wasm?.PThread?.runningWorkers ?? []) worker.unref?.();
}

async function activateWasm(
  timeoutMs: number,
  threads: number,
  failed?: Promise<never>,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new TfError(
          'BACKEND_INIT_FAILED',
          `The threaded wasm backend (${threads} threads) did not initialise within ${timeoutMs} ms; expected its emscripten pthread workers to load`,
          { data: { backend: 'wasm', expected: threads } },
        ),
      );
    }, timeoutMs);
    timer.unref();
  });
  try {
    const pthreadFailed = failed?.catch((e: unknown) => {
      throw new TfError(
        'BACKEND_INIT_FAILED',
        `The threaded wasm backend (${threads} threads) failed to start: a pthread worker failed (${describeError(e)})`,
        { cause: e, data: { backend: 'wasm', expected: threads } },
      );
    });
    const ok = await Promise.race([
      tf.setBackend('wasm'),
      timeout,
      ...(pthreadFailed ? [pthreadFailed] : []),
    ]);
    if (!ok) {
      throw new TfError(
        'BACKEND_INIT_FAILED',
        `tf.setBackend('wasm') returned false with ${threads} thread(s) requested; expected the ${threads > 1 ? 'threaded ' : ''}wasm module to initialise`,
        { data: { backend: 'wasm', expected: threads } },
      );
    }
    await tf.ready();
  } catch (e) {
    if (e instanceof TfError) throw e;
    throw new TfError(
      'BACKEND_INIT_FAILED',
      `The wasm backend with ${threads} thread(s) failed to initialise (${describeError(e)})`,
      { cause: e, data: { backend: 'wasm', expected: threads } },
    );
  } finally {
    clearTimeout(timer);
  }
}
