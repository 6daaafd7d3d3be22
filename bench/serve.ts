/**
 * @mlship/serve benchmark: single-image requests to model A (the MNIST CNN) over HTTP on
 * 127.0.0.1 — TF Serving `:predict` and v2 `/infer` — at concurrency 1, 16 and 64, with adaptive
 * batching on and off, against the library's raw batched `predict` (@mlship/model, batch 256,
 * one thread) measured in the same run.
 *
 *   pnpm bench:serve   (env BENCH_SECONDS per measurement, default 5; BENCH_WORKERS, default the
 *                       server default; BENCH_MAX_DELAY_MS, BENCH_MAX_BATCH, BENCH_CONCURRENCY=1,16,64;
 *                       BENCH_BODY=json to send 784 JSON numbers instead of a base64 PNG)
 *
 * The server is the built `mlship-serve` (packages/serve/dist/bin.js) in a child process, so the
 * load generator (autocannon, in this process) does not share its event loop. On a 2-core machine
 * the load generator, the server's event loop and its inference worker share the two cores.
 * Bounded in time: 2 servers x 2 routes x 3 concurrencies x BENCH_SECONDS (+ 1 s warm-up each).
 * Prints a table, then as its LAST line one JSON object: every figure, plus `batchingSpeedup`
 * (predictions/s with batching / without, :predict at concurrency 64), `p99Ms` (batching on,
 * :predict, concurrency 64) and `servedVsRaw` (served predictions/s at that point / raw batched
 * predict images/s), `rawSingleImagesPerSec` (predict one image per call) and `batchingCeiling`
 * (raw batched / raw single: what batching can gain at most where inference is the bottleneck).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pngjs from 'pngjs';
import { loadMnist } from '@mlship/data';
import { buildModel, defaultCnnSpec, predict, saveModelDir } from '@mlship/model';
import { getRuntimeInfo, initRuntime } from '@mlship/tf';

const { PNG } = pngjs;
const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(here, '..', 'packages', 'serve', 'dist', 'bin.js');
const SECONDS = Math.max(1, Number(process.env.BENCH_SECONDS ?? 5));
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number);
const extra: string[] = [];
if (process.env.BENCH_WORKERS) extra.push('--workers', process.env.BENCH_WORKERS);
// Batching options go to the batching server only (the other runs with --no-batching).
const batchArgs: string[] = [];
if (process.env.BENCH_MAX_DELAY_MS)
  batchArgs.push('--max-delay-ms', process.env.BENCH_MAX_DELAY_MS);
if (process.env.BENCH_MAX_BATCH) batchArgs.push('--max-batch-size', process.env.BENCH_MAX_BATCH);

interface Row {
  route: 'predict' | 'infer';
  batching: boolean;
  concurrency: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** A grey 28x28 image as a base64 PNG (pngjs, as a client would send it). */
function encodePng(pixels: Uint8Array): string {
  const img = new PNG({ width: 28, height: 28 });
  for (let p = 0; p < 784; p++)
    img.data.set([pixels[p] ?? 0, pixels[p] ?? 0, pixels[p] ?? 0, 255], 4 * p);
  return PNG.sync.write(img).toString('base64');
}

async function startServer(
  dir: string,
  batching: boolean,
): Promise<{ url: string; child: ChildProcess }> {
  const args = [
    BIN,
    '--model',
    `a=${dir}`,
    '--port',
    '0',
    '--no-watch',
    '--no-ui',
    '--log-level',
    'info',
    ...extra,
  ];
  args.push(...(batching ? batchArgs : ['--no-batching']));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as { event?: string; url?: string };
      if (entry.event === 'listening') resolve(entry.url as string);
    });
    child.once('exit', (code) => reject(new Error(`mlship-serve exited ${code}`)));
  });
  return { url, child };
}

async function load(
  url: string,
  body: string,
  connections: number,
  seconds: number,
): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: seconds,
  });
}

const root = await mkdtemp(path.join(os.tmpdir(), 'mlship-bench-serve-'));
const children: ChildProcess[] = [];
try {
  await initRuntime();
  const spec = defaultCnnSpec();
  const model = buildModel(spec, { seed: 1 });
  const dir = path.join(root, 'model-a');
  await saveModelDir(model, dir, {
    labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    spec,
  });
  const test = await loadMnist({ split: 'test' });
  const pixels = (test.images as Uint8Array).subarray(0, 784);
  const image = Array.from({ length: 28 }, (_, y) =>
    Array.from({ length: 28 }, (_, x) => [(pixels[y * 28 + x] as number) / 255]),
  );
  // The image goes as a base64 PNG ({"b64"} / BYTES), as clients send images; BENCH_BODY=json sends
  // it as 784 JSON numbers (model input), whose JSON.parse then dominates the event loop's work.
  const png = encodePng(pixels);
  const bodies =
    process.env.BENCH_BODY !== 'json'
      ? {
          predict: JSON.stringify({ instances: [{ b64: png }] }),
          infer: JSON.stringify({
            inputs: [{ name: 'input', shape: [1], datatype: 'BYTES', data: [png] }],
            outputs: [{ name: 'probabilities' }],
          }),
        }
      : {
          predict: JSON.stringify({ instances: [image] }),
          infer: JSON.stringify({
            inputs: [
              { name: 'input', shape: [1, 28, 28, 1], datatype: 'FP32', data: image.flat(2) },
            ],
            outputs: [{ name: 'probabilities' }],
          }),
        };

  // Raw batched predict: 4,096 images, batch 256, on this thread (after one warm-up pass).
  const raw = {
    images: (test.images as Uint8Array).subarray(0, 4096 * 784),
    shape: [4096, 28, 28, 1] as const,
  };
  await predict(
    model,
    { images: raw.images.subarray(0, 256 * 784), shape: [256, 28, 28, 1] },
    { batchSize: 256 },
  );
  const t0 = performance.now();
  await predict(model, raw, { batchSize: 256 });
  const rawImagesPerSec = 4096 / ((performance.now() - t0) / 1000);
  // Raw single-image predict: 512 images one call each, what per-request inference costs at best.
  const t1 = performance.now();
  for (let i = 0; i < 512; i++) {
    await predict(model, {
      images: raw.images.subarray(i * 784, (i + 1) * 784),
      shape: [1, 28, 28, 1],
    });
  }
  const rawSingleImagesPerSec = 512 / ((performance.now() - t1) / 1000);
  console.log(
    `raw batched predict (@mlship/model, ${getRuntimeInfo()?.backend}, batch 256, 1 thread): ${rawImagesPerSec.toFixed(0)} images/s; one image per call: ${rawSingleImagesPerSec.toFixed(0)} images/s (batching can gain at most ${(rawImagesPerSec / rawSingleImagesPerSec).toFixed(2)}x where inference is the bottleneck)`,
  );
  model.dispose();

  const rows: Row[] = [];
  const serverSide: Record<string, { meanBatch: number; inferenceMsPerImage: number }> = {};
  for (const batching of [true, false]) {
    const server = await startServer(dir, batching);
    children.push(server.child);
    for (const route of ['predict', 'infer'] as const) {
      const url =
        route === 'predict'
          ? `${server.url}/v1/models/a:predict`
          : `${server.url}/v2/models/a/infer`;
      for (const c of CONCURRENCY) {
        await load(url, bodies[route], c, 1); // warm-up
        const r = await load(url, bodies[route], c, SECONDS);
        const row: Row = {
          route,
          batching,
          concurrency: c,
          requestsPerSec: Math.round(r.requests.average),
          p50Ms: r.latency.p50,
          p99Ms: r.latency.p99,
          non2xx: r.non2xx,
          errors: r.errors + r.timeouts,
        };
        rows.push(row);
        console.log(
          `${route.padEnd(7)} batching ${batching ? 'on ' : 'off'} c=${String(c).padStart(2)}: ${String(row.requestsPerSec).padStart(5)} req/s (= predictions/s)  p50 ${row.p50Ms} ms  p99 ${row.p99Ms} ms  non-2xx ${row.non2xx}  errors ${row.errors}`,
        );
      }
    }
    // Server side, over the whole run of this server: mean batch size and inference time per image.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const num = (re: RegExp): number => Number(re.exec(metrics)?.[1] ?? NaN);
    const batches = num(/^mlship_batch_size_count\{[^}]*\} (\S+)/m);
    const images = num(/^mlship_batch_size_sum\{[^}]*\} (\S+)/m);
    const inferSeconds = num(/^mlship_inference_duration_seconds_sum\{[^}]*\} (\S+)/m);
    serverSide[batching ? 'batchingOn' : 'batchingOff'] = {
      meanBatch: Number((images / batches).toFixed(2)),
      inferenceMsPerImage: Number(((inferSeconds * 1000) / images).toFixed(3)),
    };
    console.log(
      `server side, batching ${batching ? 'on' : 'off'}: mean batch ${(images / batches).toFixed(1)} images, inference ${((inferSeconds * 1000) / images).toFixed(2)} ms/image`,
    );
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }
  const find = (route: Row['route'], batching: boolean, c: number): Row | undefined =>
    rows.find((r) => r.route === route && r.batching === batching && r.concurrency === c);
  const top = Math.max(...CONCURRENCY);
  const on = find('predict', true, top);
  const off = find('predict', false, top);
  const summary = {
    bench: 'serve',
    seconds: SECONDS,
    cpus: os.cpus().length,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    body: process.env.BENCH_BODY === 'json' ? 'json numbers' : 'b64 png',
    serverArgs: extra,
    batchingArgs: batchArgs,
    rawPredictImagesPerSec: Math.round(rawImagesPerSec),
    rawSingleImagesPerSec: Math.round(rawSingleImagesPerSec),
    // raw batched / raw one-at-a-time: the inference-side ceiling of batchingSpeedup
    batchingCeiling: Number((rawImagesPerSec / rawSingleImagesPerSec).toFixed(2)),
    rows,
    serverSide,
    batchingSpeedup: on && off ? Number((on.requestsPerSec / off.requestsPerSec).toFixed(2)) : null,
    batchingSpeedupInfer: (() => {
      const a = find('infer', true, top);
      const b = find('infer', false, top);
      return a && b ? Number((a.requestsPerSec / b.requestsPerSec).toFixed(2)) : null;
    })(),
    p99Ms: on?.p99Ms ?? null,
    servedVsRaw: on ? Number((on.requestsPerSec / rawImagesPerSec).toFixed(2)) : null,
  };
  console.log(
    `batching speedup at c=${top}: ${summary.batchingSpeedup}x (target >= 3), p99 ${summary.p99Ms} ms (target <= 50), served/raw ${summary.servedVsRaw} (target >= 0.8); load average ${summary.loadAverage.join(' ')}`,
  );
  console.log(JSON.stringify(summary));
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
}
