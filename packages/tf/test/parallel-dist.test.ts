// The built package starts its worker threads from its own worker program, found next to the
// running module: dist/worker.js beside dist/index.js (ESM), dist/worker.cjs beside dist/index.cjs
// (CJS). Each case runs a child process on a private build of dist/, as a user's program would.
import { execFile } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPrivate } from './helpers';

const run = promisify(execFile);
let dist: string;

beforeAll(async () => {
  dist = await buildPrivate('mlship-tf-dist', ['esm', 'cjs']);
}, 120_000);

afterAll(async () => {
  await rm(dist, { recursive: true, force: true });
});

/** A program that trains one step on main + 1 worker and predicts on a pool of 1, as JSON. */
function program(load: string): string {
  return `${load}
(async () => {
  try {
    await initRuntime({ backend: 'wasm' });
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'softmax', kernelInitializer: 'ones' })] });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const x = new Float32Array([1, 2, 3, 4, 4, 3, 2, 1, 0, 1, 0, 1]);
    const trainer = await createParallelTrainer({ model, workers: 1 });
    const step = await trainer.trainBatch(x, [3, 4], new Float32Array([1, 0, 0, 1, 1, 0]), [3, 2]);
    await trainer.dispose();
    const pool = await createInferencePool({ model, workers: 1 });
    const pooled = Array.from(await pool.predict(x, [3, 4]));
    await pool.dispose();
    const local = Array.from(model.predict(tf.tensor(x, [3, 4])).dataSync());
    console.log(JSON.stringify({ loss: step.loss, pooled, local }));
  } catch (e) {
    console.log(JSON.stringify({ error: e.code, message: e.message }));
  }
})();`;
}

const formats = [
  [
    'ESM',
    'worker.js',
    ['--input-type=module', '-e'],
    (dir: string) =>
      `const { tf, initRuntime, createParallelTrainer, createInferencePool } = await import(${JSON.stringify(path.join(dir, 'index.js'))});`,
  ],
  [
    'CJS',
    'worker.cjs',
    ['-e'],
    (dir: string) =>
      `const { tf, initRuntime, createParallelTrainer, createInferencePool } = require(${JSON.stringify(path.join(dir, 'index.cjs'))});`,
  ],
] as const;

async function runProgram(args: readonly string[], code: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [...args, code], { cwd: dist });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
}

describe('the built package', () => {
  it.each(formats)(
    '%s build: trainer and pool workers run %s from next to the module, with the results of one thread',
    async (_format, _worker, args, load) => {
      const out = await runProgram(args, program(load(dist)));
      expect(out['error']).toBeUndefined();
      expect(Number.isFinite(out['loss'])).toBe(true);
      const pooled = out['pooled'] as number[];
      const local = out['local'] as number[];
      expect(pooled).toHaveLength(6);
      pooled.forEach((v, i) => expect(Math.abs(v - (local[i] as number))).toBeLessThan(1e-6));
    },
  );

  it.each(formats)(
    '%s build without its %s (bundled elsewhere): WORKER_FAILED naming the missing program and workerEntry',
    async (_format, worker, args, load) => {
      const file = path.join(dist, worker);
      await rename(file, `${file}.away`);
      try {
        const out = await runProgram(args, program(load(dist)));
        expect(out['error']).toBe('WORKER_FAILED');
        expect(out['message']).toMatch(
          new RegExp(
            `worker program .*${worker.replace('.', '\\.')} is missing next to .*index\\.c?js .*pass the \`workerEntry\` option`,
          ),
        );
      } finally {
        await rename(`${file}.away`, file);
      }
    },
  );
});
