/**
 * Transfer benchmark: epoch time of fineTune, freeze and featureCache on 10,000 real MNIST images,
 * and how far featureCache's final test accuracy is from freeze's for the same seed and budget.
 *
 *   pnpm bench:transfer [--epochs N] [--count N] [--workers N|auto]
 *   (or env BENCH_EPOCHS, BENCH_COUNT, BENCH_WORKERS)
 *
 * The base is model A trained 2 epochs on MNIST training images 0..9,999 (cached in
 * .bench-cache/transfer-base after the first run); the target is images 10,000..10,000+count under
 * the default preset's shift (rotation ±45° plus noise), tested on the 10,000 MNIST test images
 * under the same shift. Each strategy trains `--epochs` epochs with seed 1; an epoch's time is the
 * median of @mlship/model's training-step seconds (`EpochStats.seconds`; no validation set), and
 * its CPU time the median of this process's CPU seconds between epoch ends (robust on a shared
 * machine when workers is 0). featureCache's one-off caching pass is reported apart (`cacheSeconds`).
 *
 * Prints progress lines, a table, and as its LAST line exactly one JSON object (bench/README.md).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ShiftSpec } from '@mlship/data';
import { applyShift, loadMnist, slice } from '@mlship/data';
import { buildModel, defaultCnnSpec, saveModelDir, train } from '@mlship/model';
import { initRuntime } from '@mlship/tf';
import type { Strategy, TransferResult } from '@mlship/transfer';
import { loadBase, transfer } from '@mlship/transfer';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const env = process.env;

function option(flag: string, envName: string, fallback: string): string {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? (process.argv[i + 1] ?? '') : (env[envName] ?? fallback);
}
const epochs = Number(option('--epochs', 'BENCH_EPOCHS', '3'));
const count = Number(option('--count', 'BENCH_COUNT', '10000'));
const workersRaw = option('--workers', 'BENCH_WORKERS', '0');
const workers: number | 'auto' = workersRaw === 'auto' ? 'auto' : Number(workersRaw);
for (const [name, v] of [
  ['--epochs', epochs],
  ['--count', count],
] as const) {
  if (!Number.isInteger(v) || v <= 0)
    throw new Error(`${name}: expected a positive integer, got ${v}`);
}

const SHIFT: ShiftSpec = {
  kind: 'compose',
  shifts: [
    { kind: 'rotate', maxDegrees: 45 },
    { kind: 'noise', sigma: 0.3 },
  ],
};

async function main(): Promise<void> {
  const runtime = await initRuntime();
  console.log(
    `backend: ${runtime.backend} (${runtime.reason}); ${os.availableParallelism()} cores; load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const all = await loadMnist({ split: 'train' });
  const baseDir = path.join(root, '.bench-cache', 'transfer-base');
  if (!existsSync(path.join(baseDir, 'mlship.json'))) {
    console.log('base: training model A on MNIST 0..9,999 for 2 epochs (cached for the next run)');
    const spec = defaultCnnSpec();
    const model = buildModel(spec, { seed: 1 });
    const source = slice(all, 0, 10_000);
    const r = await train(model, source, { epochs: 2, seed: 1, workers: 'auto' });
    await saveModelDir(
      model,
      baseDir,
      { labels: source.classNames, spec, training: r.params, history: r.history },
      { overwrite: true },
    );
    model.dispose();
  }
  const base = await loadBase(baseDir);
  const data = {
    train: applyShift(slice(all, 10_000, 10_000 + count), SHIFT, 1),
    test: applyShift(await loadMnist({ split: 'test' }), SHIFT, 3),
  };
  console.log(
    `data: ${count} shifted MNIST training images, 10,000 shifted test images; ${epochs} epochs, seed 1, workers ${workers}`,
  );

  const results: Record<string, { r: TransferResult; wall: number; cpu: number }> = {};
  const strategies: Strategy[] = [
    { kind: 'fineTune' },
    { kind: 'freeze' },
    { kind: 'featureCache' },
  ];
  for (const s of strategies) {
    // CPU seconds of this process per epoch (between consecutive epoch ends, so featureCache's
    // caching pass is not counted): with workers 0 every step runs on this thread, and CPU time is
    // what other processes on a shared machine disturb least.
    const cpu: number[] = [];
    let last: NodeJS.CpuUsage | undefined;
    const r = await transfer(base, s, data, {
      budget: { epochs },
      seed: 1,
      workers,
      onEpochEnd: (h) => {
        const now = process.cpuUsage();
        if (last !== undefined) cpu.push((now.user - last.user + now.system - last.system) / 1e6);
        last = now;
        console.log(
          `  ${s.kind} epoch ${h.epoch}: ${h.seconds.toFixed(2)} s (${h.imagesPerSec.toFixed(0)} images/s)`,
        );
      },
    });
    r.model.dispose();
    results[s.kind] = { r, wall: median(r.history.map((h) => h.seconds)), cpu: median(cpu) };
    console.log(
      `${s.kind}: ${results[s.kind]!.wall.toFixed(2)} s/epoch (median), ${results[s.kind]!.cpu.toFixed(2)} CPU s/epoch, ` +
        `prepare ${r.prepareSeconds.toFixed(2)} s, test accuracy ${(r.test!.accuracy * 100).toFixed(2)} %`,
    );
  }
  base.model.dispose();
  const fine = results['fineTune']!;
  const frozen = results['freeze']!;
  const cached = results['featureCache']!;
  const speedup = frozen.wall / cached.wall;
  const speedupVsFineTune = fine.wall / cached.wall;
  const speedupCpu = frozen.cpu / cached.cpu;
  const gap = Math.abs(frozen.r.test!.accuracy - cached.r.test!.accuracy) * 100;
  console.log('');
  console.log(
    '| strategy | s / epoch (median) | CPU s / epoch | one-off prepare s | test accuracy % |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [k, x] of Object.entries(results)) {
    console.log(
      `| ${k} | ${x.wall.toFixed(2)} | ${x.cpu.toFixed(2)} | ${x.r.prepareSeconds.toFixed(2)} | ${(x.r.test!.accuracy * 100).toFixed(2)} |`,
    );
  }
  console.log(
    `featureCache: ${speedup.toFixed(1)}x faster per epoch than freeze (${speedupCpu.toFixed(1)}x in CPU time), ` +
      `${speedupVsFineTune.toFixed(1)}x than fineTune; accuracy gap to freeze ${gap.toFixed(2)} points`,
  );
  const round = (x: number, d = 3): number => Number(x.toFixed(d));
  console.log(
    JSON.stringify({
      backend: runtime.backend,
      images: count,
      epochs,
      workers,
      epochSeconds: {
        fineTune: round(fine.wall),
        freeze: round(frozen.wall),
        featureCache: round(cached.wall),
      },
      epochCpuSeconds: {
        fineTune: round(fine.cpu),
        freeze: round(frozen.cpu),
        featureCache: round(cached.cpu),
      },
      cacheSeconds: round(cached.r.prepareSeconds),
      testAccuracy: {
        fineTune: round(fine.r.test!.accuracy, 4),
        freeze: round(frozen.r.test!.accuracy, 4),
        featureCache: round(cached.r.test!.accuracy, 4),
      },
      featureCacheSpeedup: round(speedup, 2),
      featureCacheSpeedupVsFineTune: round(speedupVsFineTune, 2),
      featureCacheSpeedupCpu: round(speedupCpu, 2),
      accuracyGapPoints: round(gap, 2),
      target: { featureCacheSpeedup: 5, accuracyGapPoints: 0.5 },
      met: speedup >= 5 && gap <= 0.5,
      loadAverage: os.loadavg().map((l) => round(l, 1)),
    }),
  );
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
