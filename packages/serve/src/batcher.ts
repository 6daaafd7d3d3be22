import { ServeError } from './errors';

/** @internal Runs one batch: `n` rows of `x` in, `n * outSize` values out. */
export type RunBatch = (x: Float32Array, n: number) => Promise<Float32Array>;

/** @internal */
export interface BatcherOptions {
  /** Values per input row (h * w * c). */
  rowSize: number;
  /** Values per output row (classes). */
  outSize: number;
  /** Most rows per batch; 1 with `coalesce: false`. */
  maxBatchSize: number;
  /** How long the oldest job waits for companions while idle. */
  maxDelayMs: number;
  /** Most rows queued (not counting the batch in flight). */
  maxQueue: number;
  /** false: every job runs alone (batching off). */
  coalesce: boolean;
  run: RunBatch;
  /** Called after every batch with its size and duration. */
  onBatch?: (size: number, ms: number) => void;
  now?: () => number;
}

interface Job {
  x: Float32Array;
  n: number;
  deadline: number;
  resolve: (out: Float32Array) => void;
  reject: (e: unknown) => void;
}

/**
 * @internal Adaptive batching for one model version. While a batch is running, arriving jobs
 * queue; when it finishes, everything queued (up to `maxBatchSize` rows) goes as the next batch.
 * So batches grow with load and a lone request is never held back (with `maxDelayMs` 0). The queue
 * is bounded in rows; a job that cannot finish before its deadline (estimated from the measured
 * per-row cost) is refused at once with `OVERLOADED`, and a job whose deadline passes while it
 * waits is dropped unrun.
 */
export class Batcher {
  private readonly queue: Job[] = [];
  private queuedRows = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private msPerRow = 0;
  private batchMs = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => number;

  constructor(private readonly o: BatcherOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  /** Rows waiting (not in flight). */
  get depth(): number {
    return this.queuedRows;
  }

  /** Estimated ms until a job of `n` rows submitted now would be done. */
  estimateMs(n: number): number {
    return (this.running ? this.batchMs : 0) + (this.queuedRows + n) * this.msPerRow;
  }

  /**
   * Queues `n` rows and resolves with their outputs.
   *
   * @throws ServeError `OVERLOADED` (queue full, or the deadline cannot be met)
   */
  submit(x: Float32Array, n: number, deadline: number): Promise<Float32Array> {
    const now = this.now();
    if (this.queuedRows > 0 && this.queuedRows + n > this.o.maxQueue) {
      return Promise.reject(
        this.overloaded(`the queue holds ${this.queuedRows} images (limit ${this.o.maxQueue})`, n),
      );
    }
    const eta = this.estimateMs(n);
    if (now + eta > deadline) {
      return Promise.reject(
        this.overloaded(
          `the estimated wait of ${Math.round(eta)} ms exceeds the request's deadline`,
          n,
        ),
      );
    }
    return new Promise<Float32Array>((resolve, reject) => {
      this.queue.push({ x, n, deadline, resolve, reject });
      this.queuedRows += n;
      this.pump();
    });
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private overloaded(why: string, n: number): ServeError {
    const retryAfterSeconds = Math.max(1, Math.ceil(this.estimateMs(n) / 1000));
    return new ServeError(
      'OVERLOADED',
      `Server overloaded: ${why}; retry after ${retryAfterSeconds} s`,
      {
        data: { retryAfterSeconds },
      },
    );
  }

  private pump(): void {
    if (this.running || this.queue.length === 0) return;
    const o = this.o;
    if (o.coalesce && o.maxDelayMs > 0 && this.queuedRows < o.maxBatchSize) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.dispatch();
      }, o.maxDelayMs);
      return;
    }
    this.dispatch();
  }

  private dispatch(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.running) return;
    const now = this.now();
    const jobs: Job[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const job = this.queue[0] as Job;
      if (job.deadline < now) {
        this.queue.shift();
        this.queuedRows -= job.n;
        job.reject(this.overloaded('the request waited past its deadline', job.n));
        continue;
      }
      if (jobs.length > 0 && (!this.o.coalesce || rows + job.n > this.o.maxBatchSize)) break;
      this.queue.shift();
      this.queuedRows -= job.n;
      jobs.push(job);
      rows += job.n;
      if (!this.o.coalesce) break;
    }
    if (jobs.length === 0) {
      this.settleIdle();
      return;
    }
    this.running = true;
    const x = jobs.length === 1 ? (jobs[0] as Job).x : new Float32Array(rows * this.o.rowSize);
    if (jobs.length > 1) {
      let at = 0;
      for (const j of jobs) {
        x.set(j.x, at);
        at += j.x.length;
      }
    }
    const started = this.now();
    this.o
      .run(x, rows)
      .then(
        (out) => {
          const ms = this.now() - started;
          this.learn(ms, rows);
          this.o.onBatch?.(rows, ms);
          let at = 0;
          for (const j of jobs) {
            const size = j.n * this.o.outSize;
            j.resolve(out.subarray(at, at + size));
            at += size;
          }
        },
        (e: unknown) => {
          for (const j of jobs) j.reject(e);
        },
      )
      .finally(() => {
        this.running = false;
        if (this.queue.length > 0) this.pump();
        else this.settleIdle();
      });
  }

  private learn(ms: number, rows: number): void {
    const a = 0.2;
    this.batchMs = this.batchMs === 0 ? ms : this.batchMs * (1 - a) + ms * a;
    const perRow = ms / rows;
    this.msPerRow = this.msPerRow === 0 ? perRow : this.msPerRow * (1 - a) + perRow * a;
  }

  private settleIdle(): void {
    if (this.running || this.queue.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
