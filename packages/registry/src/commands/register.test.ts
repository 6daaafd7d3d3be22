import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, tempDir, writeModelDirs, type ModelDirs } from '../../test/helpers';
import { isRegistryError, openRegistry, type Registry, type RegistryFs } from '../index';
import { MODEL_A_LAYERS, writeModelDirForTesting } from '../testing';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
// One registry holding cnn@v1; every test below is refused before anything is committed.
let reg: Registry;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
  reg = await openRegistry({ dir: join(root, 'errors'), bare: true });
  await reg.register('cnn', dirs.base);
});
afterAll(async () => cleanup());

describe('register refuses bad input with typed errors', () => {
  it.each([
    '../evil',
    'a/b',
    'a\\b',
    'Cnn',
    'x..y',
    'model.lock',
    'has space',
    '',
    'x~1',
    'x^2',
    'a:b',
    '-lead',
    'trail-',
    '@',
    'a#b',
  ])('rejects the model name %j', async (name) => {
    expect(await errorOf(reg.register(name, dirs.base))).toMatchObject({
      code: 'INVALID_NAME',
      message: expect.stringMatching(/Invalid model name/),
    });
  });

  it.each([
    [
      'a non-numeric metric',
      () => reg.register('cnn', dirs.base, { metrics: { accuracy: Number.NaN } }),
      'INVALID_OPTION',
      /Metric "accuracy" is null: metrics must be finite numbers/,
    ],
    [
      'a missing parent',
      () => reg.register('cnn', dirs.base, { parent: 'cnn@v7' }),
      'VERSION_NOT_FOUND',
      /Version 7/,
    ],
  ])('rejects %s', async (_what, run, code, message) => {
    expect(await errorOf(run())).toMatchObject({ code, message: expect.stringMatching(message) });
    expect((await reg.versions('cnn')).map((v) => v.version)).toEqual([1]);
  });

  it.each([
    [
      'a missing directory',
      (d: string) => Promise.resolve(d),
      'NOT_A_MODEL_DIR',
      /does not exist/,
      {},
    ],
    [
      'a directory without mlship.json',
      async (d: string) => {
        await mkdir(d, { recursive: true });
        await writeFile(join(d, 'model.json'), '{}');
        return d;
      },
      'NOT_A_MODEL_DIR',
      /mlship\.json is missing/,
      {},
    ],
    [
      'a listed file that is missing',
      async (d: string) => {
        await writeModelDirForTesting(d);
        await unlink(join(d, 'dense.weights.bin'));
        return d;
      },
      'INTEGRITY',
      /dense\.weights\.bin: listed in mlship\.json \(819712 bytes\) but missing$/,
      { reason: 'missing', path: expect.stringMatching(/dense\.weights\.bin$/) },
    ],
    [
      'a file whose sha256 differs',
      async (d: string) => {
        await writeModelDirForTesting(d);
        await writeFile(join(d, 'conv2d.weights.bin'), Buffer.alloc(MODEL_A_LAYERS.conv2d! * 4));
        return d;
      },
      'INTEGRITY',
      /conv2d\.weights\.bin: expected sha256 [0-9a-f]{64} \(per mlship\.json\), got [0-9a-f]{64}: the file was modified$/,
      { reason: 'sha256', path: expect.stringMatching(/conv2d\.weights\.bin$/) },
    ],
    [
      'a file whose size differs',
      async (d: string) => {
        await writeModelDirForTesting(d);
        await writeFile(join(d, 'conv2d.weights.bin'), Buffer.alloc(3));
        return d;
      },
      'INTEGRITY',
      /conv2d\.weights\.bin: expected 1280 bytes \(per mlship\.json\), got 3 \(truncated\)$/,
      { reason: 'size', path: expect.stringMatching(/conv2d\.weights\.bin$/) },
    ],
    [
      'an unlisted file',
      async (d: string) => {
        await writeModelDirForTesting(d);
        await writeFile(join(d, 'notes.txt'), 'hi');
        return d;
      },
      'INTEGRITY',
      /notes\.txt: not listed in mlship\.json files/,
      { reason: 'unlisted', path: expect.stringMatching(/notes\.txt$/) },
    ],
    [
      'a wrong format',
      async (d: string) => {
        await writeModelDirForTesting(d);
        const meta = JSON.parse(await readFile(join(d, 'mlship.json'), 'utf8')) as Record<
          string,
          unknown
        >;
        await writeFile(join(d, 'mlship.json'), JSON.stringify({ ...meta, format: 'other/1' }));
        return d;
      },
      'INVALID_META',
      /expected "mlship-model\/1"/,
      {},
    ],
  ])('rejects %s as a model directory', async (what, make, code, message, data) => {
    const d = await make(join(root, 'bad', what.replace(/\W+/g, '-')));
    const err = await errorOf(reg.register('cnn', d));
    expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(err.data ?? {}).toMatchObject(data);
  });
});

describe('file-system failures', () => {
  it('a disk that fills up while objects are written is WRITE_FAILED (typed, with the errno), and nothing is registered', async () => {
    const repo = join(root, 'enospc');
    await openRegistry({ dir: repo, bare: true });
    const p = nodeFs.promises;
    const full = (path: unknown): void => {
      if (String(path).includes('/objects/'))
        throw Object.assign(new Error(`ENOSPC: no space left on device, write '${String(path)}'`), {
          code: 'ENOSPC',
        });
    };
    const fs = {
      promises: {
        ...p,
        writeFile: async (path: string, ...rest: unknown[]) => (
          full(path),
          (p.writeFile as (...a: unknown[]) => Promise<void>)(path, ...rest)
        ),
      },
    } as unknown as RegistryFs;
    const writer = await openRegistry({ dir: repo, fs });
    let caught: unknown;
    try {
      await writer.register('cnn', dirs.base);
    } catch (e) {
      caught = e;
    }
    expect(isRegistryError(caught)).toBe(true);
    expect(caught).toMatchObject({
      code: 'WRITE_FAILED',
      message: expect.stringMatching(/^registering .*base as cnn failed: ENOSPC: no space left/),
      data: { errno: 'ENOSPC' },
    });
    expect((caught as Error).cause).toMatchObject({ code: 'ENOSPC' });
    expect(await (await openRegistry({ dir: repo })).versions('cnn')).toEqual([]);
  });
});

describe('the version record is built from the typed mlship.json', () => {
  it('merges metrics, params and datasets over mlship.json, and keeps the kind of a strategy object', async () => {
    const reg2 = await openRegistry({ dir: join(root, 'record'), bare: true });
    const dir = join(root, 'strategy-object');
    await writeModelDirForTesting(dir, {
      seed: 4,
      metrics: { accuracy: 0.8, loss: 0.5 },
      training: { optimizer: 'adam', epochs: 2 },
      datasets: { train: { fingerprint: 'sha256:cccc', count: 5 } },
      strategy: { kind: 'freeze', layers: { type: ['conv2d'] }, learningRate: 0.0005 },
      parent: { name: 'hub-cnn', version: 3, ref: 'hub-cnn@v3.0.0' },
    });
    const v = await reg2.register('cnn', dir, {
      metrics: { accuracy: 0.85 },
      params: { epochs: 3 },
      datasets: { test: { fingerprint: 'sha256:dddd' } },
    });
    const d = await reg2.show(v.tag);
    expect(d.record).toMatchObject({
      metrics: { accuracy: 0.85, loss: 0.5 },
      params: { optimizer: 'adam', epochs: 3 },
      datasets: {
        train: { fingerprint: 'sha256:cccc', count: 5 },
        test: { fingerprint: 'sha256:dddd' },
      },
      strategy: 'freeze',
      parent: 'hub-cnn@v3.0.0',
    });
    // the full strategy object stays in the stored mlship.json
    expect(d.metadata.strategy).toEqual({
      kind: 'freeze',
      layers: { type: ['conv2d'] },
      learningRate: 0.0005,
    });
  });
});

describe('model directories with symlinks: regular files inside the directory only', () => {
  const outside = (): string => join(root, 'outside-secret.bin');
  beforeAll(async () => {
    await writeFile(outside(), Buffer.alloc(4096, 9));
  });

  it.each([
    [
      'a weight file that is a symlink to a file elsewhere',
      async (d: string) => {
        await unlink(join(d, 'dense_1.weights.bin'));
        await nodeFs.promises.symlink(outside(), join(d, 'dense_1.weights.bin'));
      },
      'dense_1.weights.bin',
    ],
    [
      'mlship.json as a symlink',
      async (d: string) => {
        await nodeFs.promises.rename(join(d, 'mlship.json'), join(root, `meta-${Date.now()}.json`));
        await nodeFs.promises.symlink(outside(), join(d, 'mlship.json'));
      },
      'mlship.json',
    ],
    [
      'a symlinked directory inside it',
      async (d: string) => {
        await nodeFs.promises.symlink(root, join(d, 'linked-dir'));
      },
      'linked-dir',
    ],
    [
      'a symlink loop',
      async (d: string) => {
        await nodeFs.promises.symlink(join(d, 'loop-b'), join(d, 'loop-a'));
        await nodeFs.promises.symlink(join(d, 'loop-a'), join(d, 'loop-b'));
      },
      'loop-a',
    ],
  ])('refuses %s with INTEGRITY not-regular, never reading outside', async (what, make, path) => {
    const d = join(root, 'symlinks', what.replace(/\W+/g, '-'));
    await writeModelDirForTesting(d, { seed: 6 });
    await make(d);
    const repo = join(root, 'symlink-repo', what.replace(/\W+/g, '-'));
    const reg2 = await openRegistry({ dir: repo, bare: true });
    const err = await errorOf(reg2.register('cnn', d));
    expect(err).toMatchObject({
      code: 'INTEGRITY',
      data: { reason: 'not-regular', path: expect.stringMatching(new RegExp(`${path}$`)) },
    });
    // nothing of the outside file is reported or stored
    const outsideSha = createHash('sha256').update(Buffer.alloc(4096, 9)).digest('hex');
    expect(JSON.stringify(err)).not.toContain(outsideSha);
    expect(await reg2.versions('cnn')).toEqual([]);
  });

  it('refuses a model.json that names a weight file mlship.json does not list', async () => {
    const d = join(root, 'unlisted-weights');
    await writeModelDirForTesting(d, { seed: 7 });
    const meta = JSON.parse(await readFile(join(d, 'mlship.json'), 'utf8')) as {
      files: Record<string, unknown>;
    };
    delete meta.files['dense_1.weights.bin'];
    await unlink(join(d, 'dense_1.weights.bin'));
    await writeFile(join(d, 'mlship.json'), JSON.stringify(meta));
    expect(await errorOf(reg.register('cnn', d))).toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(/weight file "dense_1\.weights\.bin" is not listed/),
      data: { reason: 'unlisted', path: 'dense_1.weights.bin' },
    });
  });
});
