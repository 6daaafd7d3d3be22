import pngjs from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from './mnist';
import { decodePng } from './png';

let rgba: Buffer;

beforeAll(async () => {
  // A real MNIST digit, tinted so the colour channels differ, with a varying alpha.
  const ds = await loadMnist({ split: 'test' });
  rgba = Buffer.alloc(784 * 4);
  for (let p = 0; p < 784; p++) {
    const v = ds.images[p] as number;
    rgba[4 * p] = v;
    rgba[4 * p + 1] = 255 - v;
    rgba[4 * p + 2] = (v * 7) & 0xff;
    rgba[4 * p + 3] = 128 + (p % 128);
  }
});

function encode(options: pngjs.PackerOptions): Buffer {
  const img = new pngjs.PNG({ width: 28, height: 28 });
  rgba.copy(img.data);
  return pngjs.PNG.sync.write(img, options);
}

describe('decodePng', () => {
  const grid: [string, pngjs.PackerOptions][] = [];
  for (const colorType of [0, 2, 4, 6] as const) {
    for (const filterType of [0, 1, 2, 3, 4, -1])
      grid.push([`colorType ${colorType} filter ${filterType}`, { colorType, filterType }]);
  }
  grid.push(['16-bit RGBA (pngjs fallback)', { colorType: 6, bitDepth: 16 }]);

  it.each(grid)('%s decodes exactly like pngjs', (_name, options) => {
    const bytes = encode(options);
    const ours = decodePng(bytes);
    const ref = pngjs.PNG.sync.read(bytes);
    expect([ours.width, ours.height]).toEqual([28, 28]);
    expect(Buffer.from(ours.rgba).equals(ref.data)).toBe(true);
  });

  it.each([
    [
      'a flipped byte in the image data',
      (b: Buffer) => b.map((v, i) => (i === b.length - 20 ? v ^ 0xff : v)),
      /bad CRC in IDAT chunk/,
    ],
    ['a cut file', (b: Buffer) => b.subarray(0, b.length >> 1), /truncated/],
  ])('rejects %s', (_name, damage, message) => {
    expect(() => decodePng(damage(encode({ colorType: 0 })))).toThrow(message);
  });
});
