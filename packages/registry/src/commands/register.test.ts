import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, tempDir, writeModelDirs, type ModelDirs } from '../../test/helpers';
import { openRegistry, type Registry } from '../index';
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
      message: /Invalid model name/,
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
    expect(await errorOf(run())).toMatchObject({ code, message });
    expect((await reg.versions('cnn')).map((v) => v.version)).toEqual([1]);
  });

  it.each([
    ['a missing directory', async (d: string) => d, 'NOT_A_MODEL_DIR', /does not exist/, {}],
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
      /dense\.weights\.bin is listed in mlship\.json but missing/,
      { reason: 'missing', path: /dense\.weights\.bin$/ },
    ],
    [
      'a file whose sha256 differs',
      async (d: string) => {
        await writeModelDirForTesting(d);
        await writeFile(join(d, 'conv2d.weights.bin'), Buffer.alloc(MODEL_A_LAYERS.conv2d! * 4));
        return d;
      },
      'INTEGRITY',
      /conv2d\.weights\.bin has sha256 [0-9a-f]{64}.*expects/,
      { reason: 'sha256', path: /conv2d\.weights\.bin$/ },
    ],
    [
      'a file whose size differs',
      async (d: string) => {
        await writeModelDirForTesting(d);
        await writeFile(join(d, 'conv2d.weights.bin'), Buffer.alloc(3));
        return d;
      },
      'INTEGRITY',
      /conv2d\.weights\.bin has sha256 [0-9a-f]{64} \(3 bytes\).*expects/,
      { reason: 'size', path: /conv2d\.weights\.bin$/ },
    ],
    [
      'an unlisted file',
      async (d: string) => {
        await writeModelDirForTesting(d);
        await writeFile(join(d, 'notes.txt'), 'hi');
        return d;
      },
      'INTEGRITY',
      /notes\.txt is not listed/,
      { reason: 'unlisted', path: /notes\.txt$/ },
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
    expect(err).toMatchObject({ code, message });
    expect(err.data ?? {}).toMatchObject(data);
  });
});
