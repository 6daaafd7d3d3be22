import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import jpegjs from 'jpeg-js';
import pngjs from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from './decode-image';
import { isDataError } from './errors';
import { loadImageFolder } from './image-folder';
import { loadMnist } from './mnist';

let digit: Uint8Array; // a real MNIST test digit, 28x28 grey

beforeAll(async () => {
  const ds = await loadMnist({ split: 'test' });
  digit = ds.images.slice(0, 784) as Uint8Array;
});

function png(width: number, height: number, fill: (x: number, y: number) => number[]): Buffer {
  const img = new pngjs.PNG({ width, height });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) img.data.set(fill(x, y), 4 * (y * width + x));
  return pngjs.PNG.sync.write(img);
}

function chunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

describe('decodeImage', () => {
  it('decodes a grey PNG of an MNIST digit to the same 784 pixels', () => {
    const bytes = png(28, 28, (x, y) => {
      const v = digit[y * 28 + x] as number;
      return [v, v, v, 255];
    });
    const out = decodeImage(bytes, { channels: 1, height: 28, width: 28 });
    expect(out.format).toBe('png');
    expect(out.shape).toEqual([28, 28, 1]);
    expect(out.original).toEqual({ width: 28, height: 28 });
    expect(Buffer.from(out.pixels).equals(Buffer.from(digit))).toBe(true);
  });

  it('decodes a JPEG and converts it to the requested channels and size', () => {
    const rgba = Buffer.alloc(56 * 56 * 4);
    for (let i = 0; i < 56 * 56; i++) rgba.set([200, 100, 50, 255], 4 * i);
    const bytes = jpegjs.encode({ data: rgba, width: 56, height: 56 }, 95).data;
    const grey = decodeImage(bytes, { channels: 1, height: 28, width: 28 });
    expect(grey.format).toBe('jpeg');
    expect(grey.original).toEqual({ width: 56, height: 56 });
    const luma = 0.299 * 200 + 0.587 * 100 + 0.114 * 50;
    for (const v of grey.pixels) expect(Math.abs(v - luma)).toBeLessThanOrEqual(3);
    const rgb = decodeImage(bytes, { channels: 3, height: 7, width: 5 });
    expect(rgb.pixels.length).toBe(7 * 5 * 3);
    expect(Math.abs((rgb.pixels[0] as number) - 200)).toBeLessThanOrEqual(3);
  });

  it('gives exactly what loadImageFolder gives for the same file (one decoder, one resizer)', async () => {
    const bytes = png(40, 30, (x, y) => [(x * 6) & 255, (y * 8) & 255, (x * y) & 255, 255]);
    const root = await mkdtemp(join(tmpdir(), 'mlship-decode-'));
    try {
      await mkdir(join(root, 'a'));
      await writeFile(join(root, 'a', 'x.png'), bytes);
      const ds = await loadImageFolder(root, { channels: 3, height: 28, width: 28 });
      const one = decodeImage(bytes, { channels: 3, height: 28, width: 28 });
      expect(Buffer.from(one.pixels).equals(Buffer.from(ds.images))).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('refuses a PNG declaring more than maxPixels before decoding it', () => {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(100_000, 0);
    ihdr.writeUInt32BE(100_000, 4);
    ihdr.set([8, 0, 0, 0, 0], 8);
    const bytes = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', zlib.deflateSync(Buffer.alloc(1000))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    expect(() => decodeImage(bytes, { channels: 1, height: 28, width: 28 })).toThrow(
      /100000x100000 pixels exceeds the limit of 16777216/,
    );
  });

  it('refuses a zlib bomb: image data inflating past the declared size', () => {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(4, 0);
    ihdr.writeUInt32BE(4, 4);
    ihdr.set([8, 0, 0, 0, 0], 8);
    const bytes = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', zlib.deflateSync(Buffer.alloc(50_000_000))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    expect(() => decodeImage(bytes, { channels: 1, height: 4, width: 4 })).toThrow(/cannot decode/);
  });

  it.each([
    ['not an image', Buffer.from('hello world, not a picture')],
    ['a truncated PNG', png(28, 28, () => [1, 2, 3, 255]).subarray(0, 60)],
    ['an empty buffer', Buffer.alloc(0)],
    ['a JPEG header only', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16])],
  ])('throws DECODE_FAILED for %s', (_what, bytes) => {
    try {
      decodeImage(bytes, { channels: 1, height: 28, width: 28 });
      expect.unreachable();
    } catch (e) {
      expect(isDataError(e) && e.code === 'DECODE_FAILED').toBe(true);
      expect((e as Error).message).toMatch(/^decodeImage: cannot decode the image/);
    }
  });

  it.each([
    [{ channels: 2, height: 28, width: 28 }, /channels 2 is not valid/],
    [{ channels: 1, height: 0, width: 28 }, /height 0 is not valid/],
    [{ channels: 1, height: 28, width: 1.5 }, /width 1.5 is not valid/],
    [{ channels: 1, height: 28, width: 28, maxPixels: -1 }, /maxPixels -1 is not valid/],
  ])('rejects bad options %j', (options, message) => {
    expect(() => decodeImage(Buffer.alloc(8), options as never)).toThrow(message);
  });
});
