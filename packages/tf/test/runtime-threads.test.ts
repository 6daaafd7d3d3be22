import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initRuntime, tf } from '../src/index';
import { buildPrivate } from './helpers';

const run = promisify(execFile);

// Its own file: vitest runs each file in a fresh worker, and the wasm module (with its thread
// count) is created once per process.
describe('initRuntime with wasm threads', () => {
  it('starts the threaded wasm module when threads are asked for, and trains on it', async () => {
    const info = await initRuntime({ backend: 'wasm', threads: 2, env: {} });
    expect(info.backend).toBe('wasm');
    expect(info.threads).toBe(2);
    expect(info.reason).toMatch(/using wasm \((no )?SIMD, 2 threads\)$/);
    expect(info.kernels).toContain('Conv2DBackpropFilter');

    // Asking again for another count cannot change a running module: the reason says so.
    const again = await initRuntime({ backend: 'wasm', threads: 4, env: {} });
    expect(again.threads).toBe(2);

    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const x = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 1);
    const y = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 16 }, (_, i) => i % 2),
        'int32',
      ),
      2,
    );
    const before = model.getWeights()[0]!.dataSync().slice();
    const history = await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    expect(Number.isFinite(history.history['loss']![0] as number)).toBe(true);
    const after = model.getWeights()[0]!.dataSync();
    expect(after.some((v, i) => v !== before[i])).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });
});

// `node --input-type=module -e "..."` used to die here: every worker inherits `--input-type`, which
// made the pthread boot script an ES module (no `require`), and emscripten rethrew the worker's
// error from an event listener. Each case spawns exactly such a program on a private ESM build.
describe('initRuntime({ threads: 2 }) from node --input-type=module -e', () => {
  let dist: string;
  beforeAll(async () => {
    dist = await buildPrivate('mlship-tf-threads', ['esm']);
  }, 120_000);
  afterAll(async () => {
    await rm(dist, { recursive: true, force: true });
  });

  const program = (): string =>
    `import { initRuntime, tf } from ${JSON.stringify(path.join(dist, 'index.js'))};
const info = await initRuntime({ threads: 2, env: {} });
const product = tf.matMul(tf.ones([64, 32]), tf.ones([32, 16])).dataSync();
console.log(JSON.stringify({ threads: info.threads, reason: info.reason, product: product[0] }));`;

  async function spawnProgram(
    flags: string[],
  ): Promise<{ out: Record<string, unknown>; stderr: string }> {
    const { stdout, stderr } = await run(
      process.execPath,
      [...flags, '--input-type=module', '-e', program()],
      { cwd: dist },
    );
    return {
      out: JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>,
      stderr,
    };
  }

  it('starts the threaded module (workers do not inherit --input-type) and the process exits normally', async () => {
    const { out, stderr } = await spawnProgram([]);
    expect(out).toMatchObject({ threads: 2, product: 32 });
    expect(out['reason']).toMatch(/using wasm \((no )?SIMD, 2 threads\)$/);
    expect(stderr).toBe('');
  });

  it('falls back to one thread, saying why, when the process may not start worker threads', async () => {
    // Node's permission model without --allow-worker: `new Worker` is refused.
    const { out, stderr } = await spawnProgram(['--experimental-permission', '--allow-fs-read=*']);
    expect(out).toMatchObject({ threads: 1, product: 32 });
    expect(out['reason']).toMatch(
      /single thread; 2 threads requested but the threaded module failed \(.*needs worker threads, which this process may not start/,
    );
    // Only Node's own notice about the experimental flag: mlship and tfjs print nothing.
    expect(
      stderr.replace(/.*ExperimentalWarning: Permission.*\n|.*--trace-warnings.*\n/g, ''),
    ).toBe('');
  });
});
