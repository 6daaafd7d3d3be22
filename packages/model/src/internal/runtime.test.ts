import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getRuntimeInfo, initRuntime, tf } from '@mlship/tf';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildModel } from '../build';
import { evaluate } from '../evaluate';
import { loadModelDir, saveModelDir } from '../model-dir';
import { predict } from '../predict';
import { train } from '../train/train';
import { checkRuntime } from './runtime';
import { halvesDataset, tinySpec } from './testing';

// This file deliberately never calls initRuntime first: it is the new user who forgot to.
const spec = tinySpec();
const data = halvesDataset(8, 1);
// What initRuntime() picks here: wasm, unless the environment asks for another backend.
const fast = process.env['MLSHIP_BACKEND'] ? undefined : 'wasm';
let root: string | undefined;
const warn = vi.spyOn(console, 'warn');
const log = vi.spyOn(console, 'log');

afterAll(async () => {
  warn.mockRestore();
  log.mockRestore();
  if (root !== undefined) await fs.rm(root, { recursive: true, force: true });
});

describe('the runtime train, evaluate, predict and loadModelDir make sure of', () => {
  it('refuses a bad MLSHIP_BACKEND with INVALID_OPTION instead of training on whatever is active', async () => {
    expect(getRuntimeInfo()).toBeUndefined(); // a fresh process: nothing chosen yet
    const model = buildModel(spec, { seed: 1 });
    const saved = process.env['MLSHIP_BACKEND'];
    process.env['MLSHIP_BACKEND'] = 'gpu';
    try {
      await expect(train(model, data, { epochs: 1, batchSize: 8 })).rejects.toMatchObject({
        name: 'ModelError',
        code: 'INVALID_OPTION',
        message: expect.stringMatching(
          /^train: could not make a TensorFlow\.js runtime ready: Unknown backend "gpu" \(from MLSHIP_BACKEND=gpu\)/,
        ),
      });
    } finally {
      if (saved === undefined) delete process.env['MLSHIP_BACKEND'];
      else process.env['MLSHIP_BACKEND'] = saved;
    }
    expect(getRuntimeInfo()).toBeUndefined();
    model.dispose();
  });

  it('train without initRuntime readies the fast runtime itself instead of running on cpu', async () => {
    // buildModel before any initRuntime: TensorFlow.js has started its cpu backend.
    const model = buildModel(spec, { seed: 1 });
    expect(tf.getBackend()).toBe('cpu');
    const result = await train(model, data, { epochs: 1, batchSize: 8 });
    const info = getRuntimeInfo();
    expect(info).toBeDefined();
    expect(result.params.backend).toBe(info!.backend);
    expect(tf.getBackend()).toBe(info!.backend);
    if (fast !== undefined) expect(info!.backend).toBe(fast);
    // Nothing was printed since this file started (tfjs' cpu "install tfjs-node" banner included).
    expect([...warn.mock.calls, ...log.mock.calls]).toEqual([]);
    model.dispose();
  });

  it.each([
    ['evaluate', (m: tf.LayersModel) => evaluate(m, data)],
    ['predict', (m: tf.LayersModel) => predict(m, data)],
    [
      'loadModelDir',
      async (m: tf.LayersModel) => {
        root ??= await fs.mkdtemp(path.join(os.tmpdir(), 'mlship-runtime-'));
        const dir = path.join(root, 'm');
        await saveModelDir(m, dir, { labels: data.classNames }, { overwrite: true });
        (await loadModelDir(dir)).model.dispose();
      },
    ],
  ] as const)(
    '%s puts the runtime back when the backend was switched behind its back',
    async (_name, run) => {
      const model = buildModel(spec, { seed: 1 });
      const backend = getRuntimeInfo()!.backend;
      await tf.setBackend('cpu'); // not through initRuntime: not a choice mlship honours
      await run(model);
      expect(tf.getBackend()).toBe(backend);
      model.dispose();
    },
  );

  it('runs on cpu when cpu is chosen explicitly', async () => {
    await initRuntime({ backend: 'cpu' });
    const model = buildModel(spec, { seed: 1 });
    const result = await train(model, data, { epochs: 1, batchSize: 8 });
    expect(result.params.backend).toBe('cpu');
    expect(await predict(model, data)).toHaveLength(8);
    model.dispose();
    await initRuntime({ backend: fast ?? 'auto' });
  });
});

describe('checkRuntime', () => {
  it.each([
    [{ backend: 'wasm', requested: 'auto' }, true],
    [{ backend: 'tensorflow', requested: 'auto' }, true],
    [{ backend: 'cpu', requested: 'cpu' }, true],
    [{ backend: 'cpu', requested: 'auto' }, false],
  ] as const)('accepts %o: %s', (info, ok) => {
    const run = (): void =>
      checkRuntime({ ...info, reason: 'auto: wasm failed to initialise (x); using cpu' }, 'train');
    if (ok) expect(run).not.toThrow();
    else
      expect(run).toThrow(
        /^train: expected a fast TensorFlow\.js backend \(wasm or tensorflow\), got only the pure-JavaScript cpu backend \(auto: wasm failed to initialise \(x\); using cpu\), which trains about 300x slower; .*initRuntime\(\{ backend: 'cpu' \}\) or MLSHIP_BACKEND=cpu$/,
      );
  });
});
