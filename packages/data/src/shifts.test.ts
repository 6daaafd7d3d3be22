import { beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from './fingerprint';
import { loadMnist } from './mnist';
import { take, toFloat32 } from './ops';
import { applyShift, composeShifts, validateShift } from './shifts';
import type { ShiftSpec } from './shifts';
import type { ImageDataset } from './types';

let ds: ImageDataset;

beforeAll(async () => {
  ds = take(await loadMnist({ split: 'test' }), 64);
});

const random: [string, ShiftSpec][] = [
  ['rotate', { kind: 'rotate', maxDegrees: 20 }],
  ['translate', { kind: 'translate', maxPixels: 3 }],
  ['scale', { kind: 'scale', min: 0.8, max: 1.2 }],
  ['noise', { kind: 'noise', sigma: 0.1 }],
  ['invert (p=0.5)', { kind: 'invert', probability: 0.5 }],
  ['blur (sigma range)', { kind: 'blur', sigma: [0.5, 1.5] }],
  ['elastic', { kind: 'elastic', alpha: 8, sigma: 3 }],
  [
    'compose',
    composeShifts([
      { kind: 'rotate', maxDegrees: 10 },
      { kind: 'noise', sigma: 0.05 },
    ]),
  ],
];

function same(a: ImageDataset, b: ImageDataset): boolean {
  return (
    Buffer.compare(
      Buffer.from(a.images.buffer, a.images.byteOffset, a.images.byteLength),
      Buffer.from(b.images.buffer, b.images.byteOffset, b.images.byteLength),
    ) === 0
  );
}

describe('applyShift determinism', () => {
  it.each(random)('%s: same seed -> identical bytes, other seed -> different', (_name, spec) => {
    const a = applyShift(ds, spec, 1);
    const b = applyShift(ds, spec, 1);
    const c = applyShift(ds, spec, 2);
    expect(a.images).toBeInstanceOf(Uint8Array);
    expect(a.shape).toEqual(ds.shape);
    expect(a.labels).toEqual(ds.labels);
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(fingerprint(a)).not.toBe(fingerprint(c));
    expect(same(a, ds)).toBe(false);
  });

  it('per-image parameters do not depend on what else is in the dataset', () => {
    const spec: ShiftSpec = { kind: 'rotate', maxDegrees: 30 };
    const whole = applyShift(ds, spec, 5);
    const head = applyShift(take(ds, 10), spec, 5);
    expect(same(head, take(whole, 10))).toBe(true);
  });

  it('keeps Float32 as Float32 without rounding', () => {
    const f = toFloat32(ds);
    const out = applyShift(f, { kind: 'noise', sigma: 0.05 }, 3);
    expect(out.images).toBeInstanceOf(Float32Array);
    expect(Array.from(out.images).some((v) => v < 0)).toBe(true); // not clamped
    expect(Array.from(out.images).some((v) => v !== Math.round(v * 255) / 255)).toBe(true);
  });
});

describe('applyShift sanity', () => {
  it.each<[string, ShiftSpec]>([
    ['rotate by 0', { kind: 'rotate', maxDegrees: 0 }],
    ['translate by 0', { kind: 'translate', maxPixels: 0 }],
    ['scale by 1', { kind: 'scale', min: 1, max: 1 }],
    ['noise sigma 0', { kind: 'noise', sigma: 0 }],
    ['blur sigma 0', { kind: 'blur', sigma: 0 }],
    ['elastic alpha 0', { kind: 'elastic', alpha: 0, sigma: 4 }],
    ['invert twice', composeShifts([{ kind: 'invert' }, { kind: 'invert' }])],
    [
      'rotate +90 then -90',
      composeShifts([
        { kind: 'rotate', degrees: [90, 90] },
        { kind: 'rotate', degrees: [-90, -90] },
      ]),
    ],
    ['empty compose', composeShifts([])],
  ])('%s is the identity (Uint8 and Float32)', (_name, spec) => {
    expect(same(applyShift(ds, spec, 9), ds)).toBe(true);
    const f = toFloat32(ds);
    const out = applyShift(f, spec, 9).images;
    let maxDiff = 0;
    for (let i = 0; i < out.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs((out[i] as number) - (f.images[i] as number)));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('positive angles rotate counter-clockwise on screen (right of centre -> above centre)', () => {
    const img: ImageDataset = {
      images: new Uint8Array(9),
      shape: [1, 3, 3, 1],
      labels: Int32Array.of(0),
      classNames: ['x'],
    };
    img.images[1 * 3 + 2] = 200; // (x=2, y=1)
    const out = applyShift(img, { kind: 'rotate', degrees: [90, 90] }, 0);
    expect(Array.from(out.images)).toEqual([0, 200, 0, 0, 0, 0, 0, 0, 0]); // (x=1, y=0)
  });

  it('invert maps 0 to 255 and 255 to 0', () => {
    const out = applyShift(ds, { kind: 'invert' }, 0);
    for (let i = 0; i < 784; i++)
      expect((out.images[i] as number) + (ds.images[i] as number)).toBe(255);
  });

  it('translation moves the centroid by the requested offset', () => {
    const dx = 3;
    const dy = -2;
    const out = applyShift(ds, { kind: 'translate', x: [dx, dx], y: [dy, dy] }, 0);
    let checked = 0;
    for (let i = 0; i < ds.shape[0]; i++) {
      const before = centroid(ds.images.subarray(i * 784, (i + 1) * 784));
      const after = centroid(out.images.subarray(i * 784, (i + 1) * 784));
      if (before.mass !== after.mass) continue; // ink pushed out of the frame: skip that image
      expect(after.x - before.x).toBeCloseTo(dx, 6);
      expect(after.y - before.y).toBeCloseTo(dy, 6);
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('rotation keeps the centroid of a centred digit near the centre and the ink mass', () => {
    const out = applyShift(ds, { kind: 'rotate', degrees: [30, 30] }, 0);
    const before = centroid(ds.images.subarray(0, 784));
    const after = centroid(out.images.subarray(0, 784));
    expect(Math.abs(after.mass - before.mass) / before.mass).toBeLessThan(0.05);
    const r0 = Math.hypot(before.x - 13.5, before.y - 13.5);
    const r1 = Math.hypot(after.x - 13.5, after.y - 13.5);
    expect(Math.abs(r1 - r0)).toBeLessThan(0.5);
  });

  it('blur lowers the peak and keeps the mass', () => {
    const out = applyShift(ds, { kind: 'blur', sigma: 1.5 }, 0);
    const a = centroid(ds.images.subarray(0, 784));
    const b = centroid(out.images.subarray(0, 784));
    expect(Math.abs(b.mass - a.mass) / a.mass).toBeLessThan(0.02);
    expect(Math.max(...out.images.subarray(0, 784))).toBeLessThan(
      Math.max(...ds.images.subarray(0, 784)),
    );
  });

  it('noise has the requested standard deviation (Float32, unclamped)', () => {
    const f = toFloat32(ds);
    const out = applyShift(f, { kind: 'noise', sigma: 0.1 }, 4).images;
    let s2 = 0;
    for (let i = 0; i < out.length; i++) s2 += ((out[i] as number) - (f.images[i] as number)) ** 2;
    expect(Math.sqrt(s2 / out.length)).toBeCloseTo(0.1, 2);
  });
});

describe('shift specs', () => {
  it('round-trip through JSON', () => {
    const spec = composeShifts([
      { kind: 'rotate', maxDegrees: 15 },
      { kind: 'elastic', alpha: 6, sigma: 3 },
      { kind: 'blur', sigma: [0, 1] },
    ]);
    const back = JSON.parse(JSON.stringify(spec)) as ShiftSpec;
    expect(fingerprint(applyShift(ds, back, 7))).toBe(fingerprint(applyShift(ds, spec, 7)));
  });

  it.each([
    [{ kind: 'rotate' }, /expected maxDegrees >= 0 or degrees \[min, max\]/],
    [{ kind: 'scale', min: 0, max: 1 }, /expected 0 < min <= max/],
    [{ kind: 'noise', sigma: -1 }, /expected sigma >= 0/],
    [{ kind: 'invert', probability: 2 }, /expected probability in \[0, 1\]/],
    [{ kind: 'elastic', alpha: 1, sigma: 0 }, /expected alpha >= 0 and sigma > 0/],
    [{ kind: 'swirl' }, /unknown kind/],
    [{ kind: 'compose', shifts: [{ kind: 'blur' }] }, /"kind":"blur".*expected sigma/],
  ])('rejects %j', (spec, message) => {
    expect(() => validateShift(spec as ShiftSpec)).toThrow(message);
  });
});

function centroid(img: Uint8Array | Float32Array): { x: number; y: number; mass: number } {
  let m = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const v = img[y * 28 + x] as number;
      m += v;
      sx += v * x;
      sy += v * y;
    }
  }
  return { x: sx / m, y: sy / m, mass: m };
}
