import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initRuntime, loadLayersModel, saveLayersModel, tf } from '../src/index';
import { buildPrivateCjs, filesOf } from './helpers';

let root: string;
let bundle: string;

beforeAll(async () => {
  await initRuntime();
  root = await mkdtemp(path.join(tmpdir(), 'mlship-tf-crash-'));
  // The child runs a private CJS build of this package (same base options as `pnpm build`).
  bundle = await buildPrivateCjs('mlship-tf-crash');
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(path.dirname(bundle), { recursive: true, force: true });
});

describe('a save killed with SIGKILL mid-write', () => {
  it('leaves the previous model intact at dir; the next save removes the dead temp dir', async () => {
    const dir = path.join(root, 'model');
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 2, kernelInitializer: 'ones' })],
    });
    await saveLayersModel(model, dir);
    const before = await filesOf(dir);

    // The child writes model.json and the weights into its temp dir, then blocks in extraFiles
    // (before the rename) until it is killed.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const { tf, initRuntime, saveLayersModel } = require(${JSON.stringify(bundle)});
         (async () => {
           await initRuntime({ backend: 'cpu' });
           const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, kernelInitializer: 'zeros' })] });
           setInterval(() => {}, 1000);
           await saveLayersModel(m, ${JSON.stringify(dir)}, { overwrite: true, extraFiles: () => {
             process.stdout.write('paused\\n');
             return new Promise(() => {});
           } });
         })();`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('paused')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const exited = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const leftovers = (await readdir(root)).filter((n) => n.startsWith('.model.'));
    expect(leftovers).toEqual([
      expect.stringMatching(new RegExp(`^\\.model\\.tmp-${child.pid}-[0-9a-f]+$`)),
    ]);
    // The kill happened mid-save: the child's new model was fully written in the temp dir...
    expect(Object.keys(await filesOf(path.join(root, leftovers[0] ?? '')))).toEqual(
      Object.keys(before),
    );
    // ...yet dir still holds the previous model, byte for byte, and it loads.
    expect(await filesOf(dir)).toEqual(before);
    const loaded = await loadLayersModel(dir);
    expect(Array.from((loaded.predict(tf.ones([1, 4])) as tf.Tensor).dataSync())).toEqual([4, 4]);

    await saveLayersModel(model, dir, { overwrite: true });
    expect((await readdir(root)).filter((n) => n.startsWith('.model.'))).toEqual([]);
  });
});
