/**
 * The main job until the delivery pipeline exists: train the default mlship CNN ("model A") on the
 * first 10,000 MNIST training images, report test accuracy on the 10,000 MNIST test images, and
 * save the model directory (model.json + per-layer weights + mlship.json).
 *
 *   pnpm --filter @mlship/example-train-mnist start [-- --epochs 5 --count 10000 --backend wasm --workers 1 --out /tmp/cnn-v1]
 *
 * Flags override environment variables (EPOCHS, COUNT, TEST_COUNT, BATCH_SIZE, LEARNING_RATE, SEED,
 * MLSHIP_BACKEND, WORKERS, OUT_DIR), which override the built-in defaults.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fingerprint, loadMnist, take } from '@mlship/data';
import {
  buildModel,
  defaultCnnSpec,
  evaluate,
  isModelError,
  saveModelDir,
  train,
} from '@mlship/model';
import type { Evaluation } from '@mlship/model';
import { initRuntime } from '@mlship/tf';
import type { BackendRequest } from '@mlship/tf';

// Measured on a 2-core machine (README): main thread + 1 worker trains this model faster than one
// thread and reaches the same accuracy. `auto` = cores - 1 workers, 0 on a 1-core machine.
const DEFAULT_WORKERS: string = 'auto';

// pnpm 10 forwards a literal `--` to the script (`pnpm start -- --epochs 1`); accept it.
const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    epochs: { type: 'string' },
    count: { type: 'string' },
    'test-count': { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    schedule: { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    workers: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(`usage: pnpm --filter @mlship/example-train-mnist start [-- options]
  --epochs N        training epochs (env EPOCHS, default 5)
  --count N         first N MNIST training images (env COUNT, default 10000)
  --test-count N    first N MNIST test images to evaluate on (env TEST_COUNT, default 10000)
  --batch-size N    images per step (env BATCH_SIZE, default 32)
  --lr X            initial Adam learning rate (env LEARNING_RATE, default 0.002)
  --schedule S      cosine | constant learning rate over the epochs (env SCHEDULE, default cosine)
  --seed N          seed of weights and shuffling (env SEED, default 1)
  --backend B       auto | wasm | cpu | tensorflow (env MLSHIP_BACKEND, default auto)
  --workers N       worker threads training beside the main thread, or auto = cores - 1
                    (env WORKERS, default ${DEFAULT_WORKERS})
  --out DIR         model directory to write (env OUT_DIR, default <os tmpdir>/mlship/models/cnn-v1)`);
  process.exit(0);
}

const env = process.env;
function int(
  flag: string | undefined,
  envValue: string | undefined,
  fallback: number,
  name: string,
): number {
  const raw = flag ?? envValue;
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name}: expected a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

const epochs = int(values.epochs, env['EPOCHS'], 5, '--epochs');
const count = int(values.count, env['COUNT'], 10_000, '--count');
const testCount = int(values['test-count'], env['TEST_COUNT'], 10_000, '--test-count');
const batchSize = int(values['batch-size'], env['BATCH_SIZE'], 32, '--batch-size');
const seed = int(values.seed, env['SEED'], 1, '--seed');
const learningRate = Number(values.lr ?? env['LEARNING_RATE'] ?? 0.002);
const scheduleRaw = values.schedule ?? env['SCHEDULE'] ?? 'cosine';
if (scheduleRaw !== 'cosine' && scheduleRaw !== 'constant')
  throw new Error(`--schedule: expected cosine or constant, got ${JSON.stringify(scheduleRaw)}`);
const scheduleName: 'cosine' | 'constant' = scheduleRaw;
if (!(learningRate > 0))
  throw new Error(
    `--lr: expected a positive number, got ${JSON.stringify(values.lr ?? env['LEARNING_RATE'])}`,
  );
// Default outside the repository: generated JSON inside the checkout would trip `prettier --check .`.
const outDir = path.resolve(
  values.out ?? env['OUT_DIR'] ?? path.join(os.tmpdir(), 'mlship', 'models', 'cnn-v1'),
);
const backend = (values.backend ?? env['MLSHIP_BACKEND']) as BackendRequest | undefined;
const workersRaw = values.workers ?? env['WORKERS'] ?? DEFAULT_WORKERS;
const workers: number | 'auto' = workersRaw === 'auto' ? 'auto' : Number(workersRaw);
if (workers !== 'auto' && !(Number.isInteger(workers) && workers >= 0))
  throw new Error(
    `--workers: expected auto or an integer >= 0, got ${JSON.stringify(values.workers ?? env['WORKERS'])}`,
  );

async function main(): Promise<void> {
  const started = performance.now();
  const runtime = await initRuntime(backend === undefined ? {} : { backend });
  console.log(`backend: ${runtime.backend} (${runtime.reason})`);
  if (runtime.kernels.length > 0) console.log(`mlship kernels: ${runtime.kernels.join(', ')}`);

  const trainSet = take(await loadMnist({ split: 'train' }), count);
  const testSet = take(await loadMnist({ split: 'test' }), testCount);
  console.log(
    `data: ${count} MNIST training images (${fingerprint(trainSet)}), ${testCount} test images`,
  );

  const spec = defaultCnnSpec();
  const model = buildModel(spec, { seed });
  console.log(
    `model: ${spec.name}, ${model.countParams()} parameters, layers ${spec.layers.map((l) => l.name).join(' -> ')}`,
  );
  console.log(
    `training: ${epochs} epochs, batch ${batchSize}, adam lr ${learningRate} (${scheduleName} schedule), seed ${seed}`,
  );

  const cores = os.availableParallelism();
  console.log(
    workers === 'auto'
      ? `workers: auto = ${Math.max(0, cores - 1)} beside the main thread (${cores} cores)`
      : `workers: ${workers} beside the main thread (${cores} cores)`,
  );

  const result = await train(model, trainSet, {
    workers,
    epochs,
    batchSize,
    learningRate,
    schedule: { type: scheduleName },
    seed,
    input: spec.input,
    progressEvery: 50,
    onProgress: (p) => {
      if (p.batch === p.batches) return;
      console.log(
        `  epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches} loss ${p.epochLoss.toFixed(4)} accuracy ${p.epochAccuracy.toFixed(4)}`,
      );
    },
    onEpochEnd: (s) => {
      console.log(
        `epoch ${s.epoch}/${epochs}: loss ${s.loss.toFixed(4)} accuracy ${s.accuracy.toFixed(4)} lr ${s.learningRate.toPrecision(3)} ` +
          `${s.seconds.toFixed(1)} s ${s.imagesPerSec.toFixed(0)} images/s`,
      );
    },
  });

  if (result.parallel !== null)
    console.log(
      `parallel: main thread + ${result.parallel.workers} worker(s), started in ${(result.parallel.startupMs / 1000).toFixed(1)} s`,
    );
  else console.log('parallel: off, every step on the main thread');

  const evaluation: Evaluation = await evaluate(model, testSet, { input: spec.input });
  const worst = [...evaluation.perClass].sort((a, b) => a.f1 - b.f1)[0];
  console.log(
    `test accuracy: ${(evaluation.accuracy * 100).toFixed(2)} % on ${testCount} MNIST test images (loss ${evaluation.loss.toFixed(4)})`,
  );
  if (worst !== undefined) console.log(`weakest class: ${worst.label} (F1 ${worst.f1.toFixed(4)})`);

  const saved = await saveModelDir(
    model,
    outDir,
    {
      labels: trainSet.classNames,
      spec,
      training: result.params,
      history: result.history,
      metrics: {
        accuracy: evaluation.accuracy,
        loss: evaluation.loss,
        macroF1: evaluation.macro.f1,
      },
      metricsDataset: 'test',
      datasets: { train: trainSet, test: testSet },
      strategy: 'scratch',
    },
    { overwrite: true },
  );
  console.log(`saved: ${saved.dir} (${saved.files.map((f) => f.path).join(', ')})`);
  console.log(`wall time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  model.dispose();
}

main().catch((error: unknown) => {
  console.error(isModelError(error) ? `${error.code}: ${error.message}` : error);
  process.exit(1);
});
