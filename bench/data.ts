/**
 * @mlship/data throughput: IDX load and fingerprint of MNIST train (60,000 images), and the
 * image-folder loader on 10,000 PNGs generated from MNIST digits into a temp dir. Median of RUNS
 * runs each (default 3, env BENCH_RUNS). Imports the built dist (run `pnpm bench:data` from the root).
 * The last line of output is one JSON object with the figures.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  applyShift,
  composeShifts,
  fingerprint,
  loadImageFolder,
  loadMnist,
  take,
} from '@mlship/data';

// pngjs is a dependency of @mlship/data; resolve it from there rather than from the root.
const fromData = createRequire(createRequire(import.meta.url).resolve('@mlship/data'));
interface PngLike {
  data: Uint8Array;
}
interface PngModule {
  PNG: (new (options: { width: number; height: number }) => PngLike) & {
    sync: { write(png: PngLike, options: { colorType: number }): Uint8Array };
  };
}
const { PNG } = fromData('pngjs') as PngModule;

const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 3));
const FOLDER_IMAGES = 10_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function time<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [(performance.now() - t0) / 1000, out];
}

const idxSeconds: number[] = [];
const fpSeconds: number[] = [];
let train = await loadMnist({ split: 'train' });
let fp = '';
for (let r = 0; r < RUNS; r++) {
  const [s, ds] = await time(() => loadMnist({ split: 'train' }));
  idxSeconds.push(s);
  train = ds;
  const [f, out] = await time(() => fingerprint(train));
  fpSeconds.push(f);
  fp = out;
  console.log(
    `run ${r + 1}: IDX load ${(60_000 / s).toFixed(0)} img/s, fingerprint ${(60_000 / f).toFixed(0)} img/s`,
  );
}

// Domain shift on 10,000 images (the size of the thesis pipeline's "new data").
const shiftSeconds: number[] = [];
const shiftSpec = composeShifts([
  { kind: 'rotate', maxDegrees: 15 },
  { kind: 'translate', maxPixels: 2 },
  { kind: 'noise', sigma: 0.05 },
]);
for (let r = 0; r < RUNS; r++) {
  const [s] = await time(() => applyShift(take(train, FOLDER_IMAGES), shiftSpec, r));
  shiftSeconds.push(s);
  console.log(
    `run ${r + 1}: applyShift rotate+translate+noise ${(FOLDER_IMAGES / s).toFixed(0)} img/s`,
  );
}

const dir = await mkdtemp(join(tmpdir(), 'mlship-bench-data-'));
const folderSeconds: number[] = [];
let loaded = 0;
try {
  const src = take(train, FOLDER_IMAGES);
  const png = new PNG({ width: 28, height: 28 });
  for (let c = 0; c < 10; c++) await mkdir(join(dir, String(c)));
  for (let i = 0; i < FOLDER_IMAGES; i++) {
    for (let p = 0; p < 784; p++) {
      const v = src.images[i * 784 + p] as number;
      png.data[4 * p] = v;
      png.data[4 * p + 1] = v;
      png.data[4 * p + 2] = v;
      png.data[4 * p + 3] = 255;
    }
    await writeFile(
      join(dir, String(src.labels[i]), `${String(i).padStart(5, '0')}.png`),
      PNG.sync.write(png, { colorType: 0 }),
    );
  }
  console.log(`wrote ${FOLDER_IMAGES} PNGs to ${dir}`);
  for (let r = 0; r < RUNS; r++) {
    const [s, ds] = await time(() =>
      loadImageFolder(dir, { height: 28, width: 28, channels: 1, onError: 'fail' }),
    );
    loaded = ds.shape[0];
    folderSeconds.push(s);
    console.log(`run ${r + 1}: image folder ${(FOLDER_IMAGES / s).toFixed(0)} img/s`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

console.log(
  JSON.stringify({
    idxLoadImagesPerSec: Math.round(60_000 / median(idxSeconds)),
    fingerprintImagesPerSec: Math.round(60_000 / median(fpSeconds)),
    fingerprintMBPerSec: Math.round(
      (train.images.byteLength + train.labels.byteLength) / 1e6 / median(fpSeconds),
    ),
    imageFolderImagesPerSec: Math.round(FOLDER_IMAGES / median(folderSeconds)),
    imageFolderImages: loaded,
    shiftRotateTranslateNoiseImagesPerSec: Math.round(FOLDER_IMAGES / median(shiftSeconds)),
    mnistTrainFingerprint: fp,
    runs: RUNS,
    node: process.version,
    cpus: cpus().length,
  }),
);
