/**
 * @mlship/registry benchmark: time to register and to check out a "model A"-sized model
 * (conv2d 320, conv2d_1 18,496, dense 204,928, dense_1 1,290 float32 weights = 0.9 MB in four
 * layer files), and the bytes of new git objects a child version adds when (a) retrained from
 * scratch and (b) its conv layers were frozen (same conv files, new dense files).
 *
 *   pnpm bench:registry            (env BENCH_RUNS, default 5)
 *
 * Imports the built dist. Registries are bare repositories in a temp dir. Timings are medians of
 * BENCH_RUNS runs, each into a fresh repository (register) or from the same one (checkout).
 * Target: (b) adds no more than the changed layers' bytes + 16 KiB.
 * The last line of output is one JSON object with the figures.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MODEL_A_LAYERS, openRegistry, writeModelDirForTesting } from '@mlship/registry';

const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 5));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await dirBytes(p) : (await stat(p)).size;
  }
  return total;
}

const root = await mkdtemp(join(tmpdir(), 'mlship-bench-registry-'));
try {
  const base = join(root, 'base');
  const frozen = join(root, 'frozen');
  const scratch = join(root, 'scratch');
  await writeModelDirForTesting(base, { seed: 1, metrics: { accuracy: 0.97 } });
  await writeModelDirForTesting(frozen, {
    seed: 1,
    layerSeeds: { dense: 2, dense_1: 2 },
    strategy: 'freeze',
  });
  await writeModelDirForTesting(scratch, { seed: 3, strategy: 'scratch' });
  const weightBytes = Object.values(MODEL_A_LAYERS).reduce((a, b) => a + b, 0) * 4;
  console.log(
    `model A: ${weightBytes} bytes of weights in ${Object.keys(MODEL_A_LAYERS).length} layer files`,
  );

  const registerMs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const reg = await openRegistry({ dir: join(root, `reg-${r}`), bare: true });
    const t0 = performance.now();
    await reg.register('cnn', base);
    registerMs.push(performance.now() - t0);
  }
  console.log(`register: ${registerMs.map((x) => x.toFixed(1)).join(', ')} ms`);

  const reg = await openRegistry({ dir: join(root, 'reg-0') });
  const checkoutMs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    await reg.checkout('cnn@v1', join(root, `out-${r}`));
    checkoutMs.push(performance.now() - t0);
  }
  console.log(`checkout: ${checkoutMs.map((x) => x.toFixed(1)).join(', ')} ms`);

  // Storage: new object bytes added by each kind of child, each on top of the same v1.
  const objects = (name: string): string => join(root, name, 'objects');
  const a = await openRegistry({ dir: join(root, 'storage-a'), bare: true });
  await a.register('cnn', base);
  const a0 = await dirBytes(objects('storage-a'));
  await a.register('cnn', scratch, { parent: 'cnn@v1' });
  const scratchBytes = (await dirBytes(objects('storage-a'))) - a0;

  const b = await openRegistry({ dir: join(root, 'storage-b'), bare: true });
  await b.register('cnn', base);
  const b0 = await dirBytes(objects('storage-b'));
  await b.register('cnn', frozen, { parent: 'cnn@v1' });
  const frozenBytes = (await dirBytes(objects('storage-b'))) - b0;
  const changedLayerBytes = ((MODEL_A_LAYERS.dense ?? 0) + (MODEL_A_LAYERS.dense_1 ?? 0)) * 4;
  const budget = changedLayerBytes + 16 * 1024;
  console.log(`new objects, scratch child: ${scratchBytes} bytes`);
  console.log(
    `new objects, frozen-conv child: ${frozenBytes} bytes (changed layers ${changedLayerBytes} + 16 KiB = ${budget}: ${frozenBytes <= budget ? 'within target' : 'OVER TARGET'})`,
  );

  console.log(
    JSON.stringify({
      bench: 'registry',
      runs: RUNS,
      modelWeightBytes: weightBytes,
      registerMsMedian: Number(median(registerMs).toFixed(1)),
      checkoutMsMedian: Number(median(checkoutMs).toFixed(1)),
      newObjectBytesScratchChild: scratchBytes,
      newObjectBytesFrozenChild: frozenBytes,
      changedLayerBytes,
      frozenTargetBytes: budget,
      frozenWithinTarget: frozenBytes <= budget,
    }),
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
