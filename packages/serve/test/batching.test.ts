/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument -- HTTP response bodies are untyped JSON; every one is checked by the assertions */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, copyFixture, nested, post, removeAll, serve, tempDir } from './helpers';

let root: string;
let dir: string;
const images: number[][][][] = [];

beforeAll(async () => {
  root = await tempDir('batching');
  dir = await copyFixture('v1', path.join(root, 'cnn'));
  for (let i = 0; i < 32; i++) images.push(await nested(i));
}, 300_000);

afterAll(async () => {
  await removeAll(root);
});

function histogram(metrics: string, name: string): { count: number; sum: number } {
  const count = Number(new RegExp(`${name}_count\\{[^}]*\\} (\\d+)`).exec(metrics)?.[1]);
  const sum = Number(new RegExp(`${name}_sum\\{[^}]*\\} ([\\d.e+-]+)`).exec(metrics)?.[1]);
  return { count, sum };
}

describe('adaptive batching over HTTP', () => {
  it('coalesces concurrent requests into fewer inferences, and each request gets its own answer', async () => {
    const { server, url } = await serve({
      models: [{ name: 'cnn', source: dir }],
      batching: { maxBatchSize: 64 },
    });
    try {
      const alone: number[][] = [];
      for (const x of images)
        alone.push(
          (await post(`${url}/v1/models/cnn:predict`, { instances: [x] })).body
            .predictions[0] as number[],
        );
      const before = histogram((await call(`${url}/metrics`)).body, 'mlship_batch_size');
      expect(before).toEqual({ count: 32, sum: 32 });
      const together = await Promise.all(
        images.map((x) => post(`${url}/v1/models/cnn:predict`, { instances: [x] })),
      );
      expect(together.map((r) => r.status)).toEqual(new Array(32).fill(200));
      together.forEach((r, i) =>
        (r.body.predictions[0] as number[]).forEach((p, j) =>
          expect(Math.abs(p - (alone[i]?.[j] as number))).toBeLessThan(1e-5),
        ),
      );
      const after = histogram((await call(`${url}/metrics`)).body, 'mlship_batch_size');
      expect(after.sum - before.sum).toBe(32);
      expect(after.count - before.count).toBeLessThan(32);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('answers 503 with Retry-After when the bounded queue is full, never anything but 200 or 503, and health checks keep answering', async () => {
    const { server, url } = await serve({
      models: [{ name: 'cnn', source: dir }],
      batching: { maxBatchSize: 1, maxQueue: 2 },
    });
    try {
      const health = (async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) statuses.push((await call(`${url}/v2/health/live`)).status);
        return statuses;
      })();
      const answers = await Promise.all(
        Array.from({ length: 48 }, (_, i) =>
          post(`${url}/v1/models/cnn:predict`, { instances: [images[i % 32]] }),
        ),
      );
      const statuses = answers.map((r) => r.status);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3);
      const refused = answers.filter((r) => r.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(r.body.error).toMatch(/Server overloaded: the queue holds \d+ images \(limit 2\)/);
      }
      expect(await health).toEqual([200, 200, 200, 200, 200]);
      expect((await call(`${url}/metrics`)).body).toMatch(
        /mlship_rejected_total\{model="cnn",reason="queue_full"\} \d+/,
      );
      expect((await call(`${url}/metrics`)).body).toMatch(
        /mlship_requests_total\{model="cnn",version="1",route="tfs_predict",status="503"\} \d+/,
      );
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('answers 503 when a request cannot meet its deadline (x-request-timeout-ms)', async () => {
    const { server, url } = await serve({ models: [{ name: 'cnn', source: dir }] });
    try {
      const r = await call(`${url}/v1/models/cnn:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-timeout-ms': '1' },
        // 256 images (~1 MB of JSON): reading and parsing them alone outlasts the 1 ms deadline,
        // however fast the machine
        body: JSON.stringify({ instances: Array.from({ length: 8 }, () => images).flat() }),
      });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(r.body.error).toMatch(/deadline/);
      const ok = await post(`${url}/v1/models/cnn:predict`, { instances: images });
      expect(ok.status).toBe(200);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('with batching off every request is its own inference', async () => {
    const { server, url } = await serve({
      models: [{ name: 'cnn', source: dir }],
      batching: false,
    });
    try {
      const answers = await Promise.all(
        images.slice(0, 16).map((x) => post(`${url}/v1/models/cnn:predict`, { instances: [x] })),
      );
      expect(answers.every((r) => r.status === 200)).toBe(true);
      expect(histogram((await call(`${url}/metrics`)).body, 'mlship_batch_size')).toEqual({
        count: 16,
        sum: 16,
      });
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('with workers: 0 runs inference on the event loop and answers the same', async () => {
    const { server, url } = await serve({ models: [{ name: 'cnn', source: dir }], workers: 0 });
    const { server: pooled, url: pooledUrl } = await serve({
      models: [{ name: 'cnn', source: dir }],
      workers: 1,
    });
    try {
      const a = await post(`${url}/v1/models/cnn:predict`, { instances: images.slice(0, 4) });
      const b = await post(`${pooledUrl}/v1/models/cnn:predict`, { instances: images.slice(0, 4) });
      expect(a.status).toBe(200);
      (a.body.predictions as number[][]).forEach((row, i) =>
        row.forEach((p, j) => expect(Math.abs(p - b.body.predictions[i][j])).toBeLessThan(1e-5)),
      );
    } finally {
      await server.stop();
      await pooled.stop();
    }
  }, 120_000);
});
