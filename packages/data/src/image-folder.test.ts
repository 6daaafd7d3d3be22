import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpegjs from 'jpeg-js';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDataError } from './errors';
import { loadImageFolder } from './image-folder';
import { loadMnist } from './mnist';
import type { DataFs, ImageDataset } from './types';

let tmp: string;
let root: string;
let mnist: ImageDataset;
/** MNIST test indices written per class directory, in file-name order. */
const written: Record<string, number[]> = { five: [], one: [], zero: [] };

function rgba(i: number): Buffer {
  const out = Buffer.alloc(784 * 4);
  for (let p = 0; p < 784; p++) {
    const v = mnist.images[i * 784 + p] as number;
    out[4 * p] = v;
    out[4 * p + 1] = v;
    out[4 * p + 2] = v;
    out[4 * p + 3] = 255;
  }
  return out;
}

function png(i: number, colorType: 0 | 2 | 6): Buffer {
  const img = new pngjs.PNG({ width: 28, height: 28 });
  rgba(i).copy(img.data);
  return pngjs.PNG.sync.write(img, { colorType });
}

beforeAll(async () => {
  mnist = await loadMnist({ split: 'test' });
  tmp = await mkdtemp(join(tmpdir(), 'mlship-data-folder-'));
  root = join(tmp, 'digits');
  const dirs: Record<string, number> = { zero: 0, one: 1, five: 5 };
  for (const [name, digit] of Object.entries(dirs)) {
    await mkdir(join(root, name), { recursive: true });
    const indices: number[] = [];
    for (let i = 0; i < mnist.shape[0] && indices.length < 6; i++)
      if (mnist.labels[i] === digit) indices.push(i);
    for (const [k, i] of indices.entries()) {
      // a.png .. f.png: grey, RGB and RGBA PNGs; 'c' is a JPEG.
      const file = `${String.fromCharCode(97 + k)}.${k === 2 ? 'jpg' : 'png'}`;
      const bytes =
        k === 2
          ? jpegjs.encode({ width: 28, height: 28, data: rgba(i) }, 95).data
          : png(i, ([0, 2, 6] as const)[k % 3] ?? 6);
      await writeFile(join(root, name, file), bytes);
      (written[name] as number[]).push(i);
    }
  }
  await writeFile(join(root, 'one', 'notes.txt'), 'not an image, ignored');
  await writeFile(join(root, 'one', '.DS_Store'), 'hidden, ignored');
  await writeFile(join(root, 'README.md'), 'a file at the root is not a class');
  // A broken PNG: a real one cut in half.
  const broken = png(0, 0);
  await writeFile(join(root, 'five', 'broken.png'), broken.subarray(0, broken.length >> 1));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('loadImageFolder', () => {
  it("'fail' throws a DECODE_FAILED error naming the broken file", async () => {
    const err = await loadImageFolder(root, {
      height: 28,
      width: 28,
      channels: 1,
      onError: 'fail',
    }).catch((e: unknown) => e);
    expect(isDataError(err) && err.code).toBe('DECODE_FAILED');
    expect((err as Error).message).toMatch(/cannot decode .*five[/\\]broken\.png/);
    expect(isDataError(err) && err.data?.path).toBe(join(root, 'five', 'broken.png'));
  });

  it("'skip' loads the rest in Keras order and reports the broken file", async () => {
    const ds = await loadImageFolder(root, { height: 28, width: 28, channels: 1, onError: 'skip' });
    expect(ds.classNames).toEqual(['five', 'one', 'zero']); // alphabetical
    expect(ds.shape).toEqual([18, 28, 28, 1]);
    expect(ds.skipped).toEqual([
      { path: join(root, 'five', 'broken.png'), reason: expect.stringMatching(/cannot decode/) },
    ]);
    expect(Array.from(ds.labels)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
    expect(ds.files.slice(0, 3).map((f) => f.slice(root.length + 1))).toEqual([
      join('five', 'a.png'),
      join('five', 'b.png'),
      join('five', 'c.jpg'),
    ]);
    // PNG pixels (grey, RGB or RGBA) come back exactly; the JPEG closely.
    const order = [
      ...(written.five as number[]),
      ...(written.one as number[]),
      ...(written.zero as number[]),
    ];
    for (const [j, i] of order.entries()) {
      const got = ds.images.subarray(j * 784, (j + 1) * 784);
      const want = mnist.images.subarray(i * 784, (i + 1) * 784);
      if (ds.files[j]?.endsWith('.jpg')) {
        let diff = 0;
        for (let p = 0; p < 784; p++) diff += Math.abs((got[p] as number) - (want[p] as number));
        expect(diff / 784).toBeLessThan(6);
      } else {
        expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
      }
    }
  });

  it('reports an unreadable file by path (fs errors other than decoding)', async () => {
    const denied = join(root, 'one', 'b.png');
    const fs: DataFs = {
      readFile: async (p) => {
        if (p === denied)
          throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), {
            code: 'EACCES',
          });
        return readFile(p);
      },
      readdir: (p) => readdir(p),
      stat: (p) => stat(p),
    };
    const options = { height: 28, width: 28, channels: 1 as const, classNames: ['one'], fs };
    await expect(loadImageFolder(root, { ...options, onError: 'fail' })).rejects.toMatchObject({
      code: 'READ_FAILED',
      data: { path: denied },
      message: expect.stringMatching(/could not read image file .*b\.png: EACCES/),
    });
    const ds = await loadImageFolder(root, { ...options, onError: 'skip' });
    expect(ds.shape[0]).toBe(5);
    expect(ds.skipped).toEqual([{ path: denied, reason: expect.stringMatching(/EACCES/) }]);
    expect(ds.files).not.toContain(denied);
  });

  it('refuses a file over maxFileBytes with READ_FAILED before reading it, default fs and injected', async () => {
    const big = join(root, 'one', 'a.png');
    const size = (await stat(big)).size;
    const options = { height: 28, width: 28, channels: 1 as const, classNames: ['one'] };
    let readBig = false;
    const fs: DataFs = {
      readFile: (p) => {
        if (p === big) readBig = true;
        return readFile(p);
      },
      readdir: (p) => readdir(p),
      stat: (p) => stat(p),
    };
    for (const viaFs of [undefined, fs]) {
      await expect(
        loadImageFolder(root, { ...options, fs: viaFs, maxFileBytes: size - 1 }),
      ).rejects.toMatchObject({
        code: 'READ_FAILED',
        data: { path: big, reason: 'too-large', actual: size },
        message: expect.stringMatching(
          new RegExp(`a\\.png: ${size} bytes exceeds the limit of ${size - 1} bytes`),
        ),
      });
    }
    expect(readBig).toBe(false);
    const ds = await loadImageFolder(root, { ...options, maxFileBytes: size, onError: 'skip' });
    expect(ds.skipped.map((s) => s.path)).not.toContain(big);
  });

  it('refuses a path an injected fs says is not a regular file, without reading it', async () => {
    const fifo = join(root, 'one', 'b.png');
    let readFifo = false;
    const fs: DataFs = {
      readFile: (p) => {
        if (p === fifo) readFifo = true;
        return readFile(p);
      },
      readdir: (p) => readdir(p),
      stat: async (p) =>
        p === fifo ? { isDirectory: () => false, isFile: () => false, size: 0 } : stat(p),
    };
    const ds = await loadImageFolder(root, {
      height: 28,
      width: 28,
      channels: 1,
      classNames: ['one'],
      fs,
      onError: 'skip',
    });
    expect(ds.skipped).toEqual([
      {
        path: fifo,
        reason: expect.stringMatching(/not a regular file \(expected a regular file\)/),
      },
    ]);
    expect(readFifo).toBe(false);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects maxFileBytes %s', async (maxFileBytes) => {
    await expect(
      loadImageFolder(root, { height: 28, width: 28, channels: 1, maxFileBytes }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION', data: { path: 'maxFileBytes' } });
  });

  it('follows classNames order and converts grey to 3 channels', async () => {
    const ds = await loadImageFolder(root, {
      height: 28,
      width: 28,
      channels: 3,
      onError: 'skip',
      classNames: ['zero', 'one'],
    });
    expect(ds.classNames).toEqual(['zero', 'one']);
    expect(ds.shape).toEqual([12, 28, 28, 3]);
    expect(ds.labels[0]).toBe(0);
    const i = written.zero?.[0] as number;
    for (let p = 0; p < 784; p++) {
      const v = mnist.images[i * 784 + p];
      expect([ds.images[3 * p], ds.images[3 * p + 1], ds.images[3 * p + 2]]).toEqual([v, v, v]);
    }
  });

  it.each([
    [14, 14],
    [56, 56],
    [20, 32],
  ])('resizes to %ix%i preserving mean brightness', async (height, width) => {
    const ds = await loadImageFolder(root, {
      height,
      width,
      channels: 1,
      onError: 'skip',
      classNames: ['one'],
    });
    expect(ds.shape).toEqual([6, height, width, 1]);
    const i = written.one?.[0] as number;
    const mean = (a: ArrayLike<number>): number =>
      Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    expect(
      Math.abs(
        mean(ds.images.subarray(0, height * width)) -
          mean(mnist.images.subarray(i * 784, (i + 1) * 784)),
      ),
    ).toBeLessThan(3);
  });

  it.each([
    [
      'a missing root',
      () => loadImageFolder(join(tmp, 'nope'), { height: 28, width: 28, channels: 1 }),
      /directory not found: .*nope/,
    ],
    [
      'a missing class',
      () => loadImageFolder(root, { height: 28, width: 28, channels: 1, classNames: ['seven'] }),
      /class directory .*seven not found/,
    ],
    [
      'bad channels',
      () => loadImageFolder(root, { height: 28, width: 28, channels: 4 as 3 }),
      /channels 4 is not valid \(expected 1 or 3\)/,
    ],
    [
      'bad height',
      () => loadImageFolder(root, { height: 0, width: 28, channels: 1 }),
      /height 0 is not valid/,
    ],
    [
      'no classes',
      () => loadImageFolder(join(root, 'one'), { height: 28, width: 28, channels: 1 }),
      /has no class sub-directories/,
    ],
  ])('rejects %s', async (_name, call, message) => {
    await expect(call()).rejects.toThrow(message);
  });
});
