import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { resolveFromAnchors } from '../resolve';
import { parallelError, remoteError } from './errors';
import { workerExecArgv } from './exec-argv';
import type { WorkerReply, WorkerRequest, WorkerResults, WorkerStart } from './protocol';

/** @internal The program a worker thread runs (see worker.ts). */
export interface WorkerEntry {
  /** Absolute path of the worker program: `dist/worker.js`, `dist/worker.cjs` or `src/parallel/worker.ts`. */
  file: string;
  /** Absolute path of tsx's ESM API, when `file` is TypeScript source. */
  tsx?: string;
}

/** What a worker thread gets as `workerData`: its start options, plus tsx when run from source. */
type WorkerData = WorkerStart & { tsx?: string };

function ownFile(): string | undefined {
  // The CJS build has __filename (and an empty import.meta); the ESM build has import.meta.url.
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
 * The worker program next to the running module: `dist/worker.js` beside `dist/index.js` (ESM),
 * `dist/worker.cjs` beside `dist/index.cjs` (CJS), or `src/parallel/worker.ts` plus tsx when this
 * file runs from TypeScript source (vitest, tsx).
 *
 * @throws TfError `WORKER_FAILED` when this module's own file cannot be found, the worker program
 *   is not next to it (the package was bundled: pass `workerEntry`), or tsx is needed but missing.
 */
export function defaultWorkerEntry(): WorkerEntry {
  const self = ownFile();
  if (self === undefined) {
    throw parallelError(
      'WORKER_FAILED',
      "Cannot locate @mlship/tf on disk for its workers; pass the `workerEntry` option (a path to @mlship/tf's dist/worker.cjs or dist/worker.js)",
    );
  }
  const dir = path.dirname(self);
  if (self.endsWith('.ts')) {
    const file = path.join(dir, 'worker.ts');
    const tsx = resolveFromAnchors('tsx/esm/api');
    if (!tsx.ok) {
      throw parallelError(
        'WORKER_FAILED',
        `@mlship/tf runs from TypeScript source (${self}), so its workers need tsx to run ${file}, but tsx does not resolve`,
        { cause: tsx.error },
      );
    }
    // require.resolve picks tsx's CJS build of the API; its ESM build registers the loader properly.
    const mjs = tsx.path.replace(/\.cjs$/, '.mjs');
    return { file, tsx: existsSync(mjs) ? mjs : tsx.path };
  }
  const file = path.join(dir, self.endsWith('.cjs') ? 'worker.cjs' : 'worker.js');
  if (!existsSync(file)) {
    throw parallelError(
      'WORKER_FAILED',
      `@mlship/tf's worker program ${file} is missing next to ${self} (was @mlship/tf bundled into another file?); pass the \`workerEntry\` option (a path to @mlship/tf's dist/worker.cjs or dist/worker.js)`,
      { data: { path: file } },
    );
  }
  return { file };
}

/**
 * Node 20 cannot start a `.ts` file as a worker, and tsx's `--import` hook does not reach a
 * worker's entry module: from source, the thread starts this small ES module, which registers
 * tsx's loader in the thread and then imports worker.ts. Built packages never use it.
 */
const FROM_SOURCE = 'worker-from-source.mjs';

interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  type: WorkerRequest['type'];
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
    backend: WorkerStart['backend'],
  ) {
    const workerData: WorkerData = {
      backend,
      ...(entry.tsx === undefined ? {} : { tsx: entry.tsx }),
    };
    const file =
      entry.tsx === undefined ? entry.file : path.join(path.dirname(entry.file), FROM_SOURCE);
    this.worker = new Worker(file, { workerData, execArgv: workerExecArgv() });
    this.worker.unref();
    this.worker.on('message', (msg: WorkerReply) => {
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      this.updateRef();
      if (msg.ok) p.resolve(msg);
      else p.reject(this.requestFailed(p.type, remoteError(msg.error)));
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => {
      if (!this.exiting) this.fail(new Error(`exit code ${code}`));
      this.dead ??= parallelError('POOL_DISPOSED', `Worker ${this.index} was terminated`);
    });
  }

  private requestFailed(type: WorkerRequest['type'], cause: Error): Error {
    return parallelError(
      'WORKER_FAILED',
      `Worker ${this.index} failed a '${type}' request: ${cause.message}`,
      { cause, data: { worker: this.index, request: type } },
    );
  }

  private fail(cause: Error): void {
    if (this.dead !== undefined) return;
    this.dead = parallelError(
      'WORKER_EXITED',
      `Worker ${this.index} exited or crashed (${cause.message}); expected it to stay up until dispose()`,
      { cause, data: { worker: this.index } },
    );
    // A thread that dies before its 'init' answered could not start (a missing worker program,
    // a failing import): that request failed; anything else was cut off by the exit.
    for (const p of this.pending.values())
      p.reject(p.type === 'init' ? this.requestFailed('init', cause) : this.dead);
    this.pending.clear();
    this.updateRef();
  }

  private updateRef(): void {
    if (this.pending.size > 0 && this.dead === undefined) this.worker.ref();
    else this.worker.unref();
  }

  /** Sends a request; resolves with the worker's answer, rejects with a TfError. */
  request<K extends WorkerRequest['type']>(
    type: K,
    body: Omit<Extract<WorkerRequest, { type: K }>, 'type'>,
  ): Promise<WorkerResults[K]> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<WorkerResults[K]>((resolve, reject) => {
      this.pending.set(id, {
        resolve: resolve as (v: Record<string, unknown>) => void,
        reject,
        type,
      });
      this.updateRef();
      try {
        this.worker.postMessage({ ...body, id, type });
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
