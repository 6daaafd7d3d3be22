import { describe, expect, it } from 'vitest';
import { decodeImage } from './decode-image';
import { isDataError } from './errors';
import { loadIdx, parseIdx } from './idx';
import { loadImageFolder } from './image-folder';
import { loadFashionMnist, loadMnist } from './mnist';
import { batches, filterClasses, split, stratifiedSplit, toFloat32 } from './ops';
import { applyShift, validateShift } from './shifts';
import type { ImageDataset } from './types';

const tiny: ImageDataset = {
  images: new Uint8Array(4 * 2 * 2),
  shape: [4, 2, 2, 1],
  labels: Int32Array.of(0, 1, 0, 1),
  classNames: ['a', 'b'],
};

// A plain-JavaScript caller's misspelt option must not be ignored silently (`{ epoch: 5 }` would
// otherwise run with the default). Each call below passes one misspelt key and nothing invalid.
const cases: [string, () => unknown, string, string[]][] = [
  ['loadMnist', () => loadMnist({ splitt: 'test' } as never), 'splitt', ['split', 'fs', 'dir']],
  [
    'loadFashionMnist',
    () => loadFashionMnist({ class: [9] } as never),
    'class',
    ['fs', 'dir', 'classes'],
  ],
  [
    'loadIdx',
    () => loadIdx('a', 'b', { classnames: ['x'] } as never),
    'classnames',
    ['classNames', 'fs'],
  ],
  ['parseIdx', () => parseIdx(new Uint8Array(0), 'x', { rnk: 1 } as never), 'rnk', ['rank']],
  [
    'loadImageFolder',
    () =>
      loadImageFolder('nowhere', { height: 8, width: 8, channels: 1, onerror: 'skip' } as never),
    'onerror',
    ['height', 'width', 'channels', 'onError', 'classNames', 'fs', 'concurrency', 'maxFileBytes'],
  ],
  [
    'decodeImage',
    () =>
      decodeImage(new Uint8Array(8), { height: 8, width: 8, channels: 1, maxPixel: 9 } as never),
    'maxPixel',
    ['channels', 'height', 'width', 'maxPixels'],
  ],
  [
    'filterClasses',
    () => filterClasses(tiny, ['a'], { relabels: false } as never),
    'relabels',
    ['relabel'],
  ],
  [
    'batches',
    () => batches(tiny, 2, { suffle: true } as never).next(),
    'suffle',
    ['shuffle', 'seed', 'dropRemainder'],
  ],
  ['toFloat32', () => toFloat32(tiny, { scal: 2 } as never), 'scal', ['scale', 'offset']],
  [
    'split',
    () => split(tiny, { train: 0.5, valid: 0.5 } as never, 1),
    'valid',
    ['train', 'validation', 'test'],
  ],
  [
    'stratifiedSplit',
    () => stratifiedSplit(tiny, { train: 0.5, tests: 0.5 } as never, 1),
    'tests',
    ['train', 'validation', 'test'],
  ],
  [
    'validateShift',
    () => validateShift({ kind: 'noise', sigma: 0.1, sigmaa: 1 } as never),
    'sigmaa',
    ['kind', 'sigma'],
  ],
  [
    'applyShift (inside compose)',
    () =>
      applyShift(
        tiny,
        { kind: 'compose', shifts: [{ kind: 'rotate', maxDegrees: 5, degree: 3 }] } as never,
        1,
      ),
    'degree',
    ['kind', 'maxDegrees', 'degrees'],
  ],
];

describe('unknown option keys', () => {
  it.each(cases)(
    '%s rejects an unknown key with INVALID_OPTION naming it and the accepted ones',
    async (_name, call, key, accepted) => {
      let error: unknown;
      try {
        await call();
      } catch (e) {
        error = e;
      }
      expect(isDataError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'INVALID_OPTION', data: { path: key, accepted } });
      expect((error as Error).message).toContain(`unknown option "${key}"`);
      expect((error as Error).message).toContain(`accepted: ${accepted.join(', ')}`);
    },
  );

  it('suggests the option a typo was meant to be', async () => {
    await expect(loadMnist({ splitt: 'test' } as never)).rejects.toThrow(/did you mean "split"\?/);
  });

  it('still accepts every documented key', async () => {
    const ds = await loadMnist({ split: 'test', dir: undefined, fs: undefined });
    expect(ds.shape[0]).toBe(10000);
    expect(toFloat32(tiny, { scale: 2, offset: 1 }).images[0]).toBe(1);
  });
});
