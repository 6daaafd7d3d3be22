import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher';
import type { BatcherOptions } from './batcher';
import { isServeError } from './errors';

/** A fake model: output row r = [sum of input row r]; each batch takes `ms` and is recorded. */
function model(ms = 5): { run: BatcherOptions['run']; batches: number[] } {
  const batches: number[] = [];
  return {
    batches,
    run: async (x, n) => {
      batches.push(n);
      await new Promise((r) => setTimeout(r, ms));
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = (x[2 * i] as number) + (x[2 * i + 1] as number);
      return out;
    },
  };
}

function batcher(o: Partial<BatcherOptions> & Pick<BatcherOptions, 'run'>): Batcher {
  return new Batcher({
    rowSize: 2,
    outSize: 1,
    maxBatchSize: 8,
    maxDelayMs: 0,
    maxQueue: 64,
    coalesce: true,
    ...o,
  });
}

const far = (): number => performance.now() + 60_000;

describe('Batcher', () => {
  it('runs a lone request at once and coalesces requests that arrive while a batch runs, each getting its own rows', async () => {
    const m = model();
    const b = batcher({ run: m.run });
    const jobs = Array.from({ length: 20 }, (_, i) => b.submit(new Float32Array([i, 1]), 1, far()));
    const out = await Promise.all(jobs);
    expect(out.map((o) => o[0])).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(m.batches[0]).toBe(1);
    expect(m.batches.slice(1)).toEqual([8, 8, 3]);
  });

  it('keeps multi-row jobs whole and never exceeds maxBatchSize except for a single larger job', async () => {
    const m = model();
    const b = batcher({ run: m.run, maxBatchSize: 4 });
    const big = b.submit(new Float32Array(12).fill(1), 6, far());
    const small = [
      b.submit(new Float32Array([1, 2, 3, 4]), 2, far()),
      b.submit(new Float32Array([5, 6, 7, 8]), 2, far()),
      b.submit(new Float32Array([1, 1]), 1, far()),
    ];
    expect(Array.from(await big)).toEqual([2, 2, 2, 2, 2, 2]);
    expect((await Promise.all(small)).map((o) => Array.from(o))).toEqual([[3, 7], [11, 15], [2]]);
    expect(m.batches).toEqual([6, 4, 1]);
  });

  it('with batching off runs every job alone', async () => {
    const m = model(1);
    const b = batcher({ run: m.run, coalesce: false });
    await Promise.all(
      Array.from({ length: 5 }, () => b.submit(new Float32Array([1, 1]), 1, far())),
    );
    expect(m.batches).toEqual([1, 1, 1, 1, 1]);
  });

  it('waits up to maxDelayMs for companions while idle', async () => {
    const m = model(1);
    const b = batcher({ run: m.run, maxDelayMs: 30 });
    const a = b.submit(new Float32Array([1, 1]), 1, far());
    await new Promise((r) => setTimeout(r, 5));
    const c = b.submit(new Float32Array([2, 2]), 1, far());
    await Promise.all([a, c]);
    expect(m.batches).toEqual([2]);
  });

  it('refuses with OVERLOADED and a Retry-After when the queue is full, and queues nothing', async () => {
    const m = model(20);
    const b = batcher({ run: m.run, maxQueue: 4, maxBatchSize: 2 });
    const ok = [b.submit(new Float32Array(2), 1, far())]; // running
    for (let i = 0; i < 4; i++) ok.push(b.submit(new Float32Array(2), 1, far())); // queued: 4
    const refused = b.submit(new Float32Array(2), 1, far());
    await expect(refused).rejects.toSatisfy(
      (e: unknown) =>
        isServeError(e) && e.code === 'OVERLOADED' && (e.data?.retryAfterSeconds ?? 0) >= 1,
    );
    await expect(refused).rejects.toThrow(/the queue holds 4 images \(limit 4\)/);
    expect(b.depth).toBe(4);
    await Promise.all(ok);
    expect(b.depth).toBe(0);
  });

  it('refuses a job whose deadline the measured cost says it cannot meet, and drops one that expired while queued', async () => {
    const m = model(40);
    const b = batcher({ run: m.run, maxBatchSize: 1 });
    await b.submit(new Float32Array(2), 1, far()); // learns ~40 ms per batch
    const running = b.submit(new Float32Array(2), 1, far());
    await expect(b.submit(new Float32Array(2), 1, performance.now() + 5)).rejects.toThrow(
      /estimated wait of \d+ ms exceeds the request's deadline/,
    );
    const b2 = batcher({ run: model(30).run, maxBatchSize: 1 });
    const first = b2.submit(new Float32Array(2), 1, far());
    const expiring = b2.submit(new Float32Array(2), 1, performance.now() + 10);
    await expect(expiring).rejects.toThrow(/waited past its deadline/);
    await Promise.all([running, first]);
  });

  it('passes a failing batch error to every job of that batch and keeps serving', async () => {
    let fail = true;
    const b = batcher({
      run: async (_x, n) => {
        await new Promise((r) => setTimeout(r, 5));
        if (fail) {
          fail = false;
          throw new Error('boom');
        }
        return new Float32Array(n);
      },
    });
    const first = b.submit(new Float32Array(2), 1, far());
    await expect(first).rejects.toThrow('boom');
    await expect(b.submit(new Float32Array(2), 1, far())).resolves.toHaveLength(1);
    await b.idle();
  });
});
