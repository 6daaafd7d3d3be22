import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadMnist } from '@mlship/data';
import type { ImageDataset } from '@mlship/data';
import pngjs from 'pngjs';
import { createServer } from '../src/index';
import { fixtures } from './fixtures';
import type { MlshipServer, ServeOptions } from '../src/index';

/** A fresh temp dir; removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `mlship-serve-${prefix}-`));
}

/** Copies fixture version `which` into `dest` (tests may change the copy). */
export async function copyFixture(which: 'v1' | 'v2', dest: string): Promise<string> {
  await cp((await fixtures())[which], dest, { recursive: true });
  return dest;
}

export { fixtures };

let test: ImageDataset | undefined;
/** The first `n` MNIST test images. */
export async function mnistTest(): Promise<ImageDataset> {
  test ??= await loadMnist({ split: 'test' });
  return test;
}

/** Raw pixels of test image `i` (28x28 grey). */
export async function digit(i: number): Promise<Uint8Array> {
  const ds = await mnistTest();
  return (ds.images as Uint8Array).slice(i * 784, (i + 1) * 784);
}

/** A grey 28x28 pixel array as a PNG. */
export function pngOf(pixels: Uint8Array, width = 28, height = 28): Buffer {
  const img = new pngjs.PNG({ width, height });
  for (let p = 0; p < width * height; p++)
    img.data.set([pixels[p] ?? 0, pixels[p] ?? 0, pixels[p] ?? 0, 255], 4 * p);
  return pngjs.PNG.sync.write(img);
}

/** Test image `i` as a [28][28][1] nested list of model input (pixel / 255). */
export async function nested(i: number): Promise<number[][][]> {
  const px = await digit(i);
  return Array.from({ length: 28 }, (_, y) =>
    Array.from({ length: 28 }, (_, x) => [(px[y * 28 + x] as number) / 255]),
  );
}

/** Starts a server on 127.0.0.1, an ephemeral port, 1 worker, no watching unless asked. */
export async function serve(
  options: Partial<ServeOptions> & Pick<ServeOptions, 'models'>,
): Promise<{ server: MlshipServer; url: string }> {
  const server = await createServer({
    host: '127.0.0.1',
    port: 0,
    workers: 1,
    watch: false,
    ...options,
  });
  const { url } = await server.start();
  return { server, url };
}

/** A parsed response body: the assertions check its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test bodies are checked by expect()
type Body = any;

/** fetch + JSON. */
export async function call(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; body: Body }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (metrics, html)
  }
  return { status: res.status, headers: res.headers, body };
}

/** POST JSON. */
export function post(
  url: string,
  body: unknown,
): Promise<{ status: number; headers: Headers; body: Body }> {
  return call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

export async function removeAll(...dirs: string[]): Promise<void> {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}
