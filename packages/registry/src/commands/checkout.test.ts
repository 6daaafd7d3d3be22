import * as nodeFs from 'node:fs';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assignStages,
  errorOf,
  registerThree,
  tempDir,
  writeModelDirs,
  type ModelDirs,
} from '../../test/helpers';
import { openRegistry } from '../index';
import { MODEL_A_LAYERS } from '../testing';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

describe('checkout', () => {
  it('checks out a verified copy that equals the registered directory', async () => {
    const reg = await openRegistry({ dir: join(root, 'checkout'), bare: true });
    await registerThree(reg, dirs);
    await assignStages(reg);
    const dest = join(root, 'out', 'prod');
    const res = await reg.checkout('cnn#production', dest);
    expect(res.version).toBe(2);
    for (const f of ['model.json', 'mlship.json', 'conv2d.weights.bin', 'dense.weights.bin']) {
      expect(
        Buffer.compare(await readFile(join(dest, f)), await readFile(join(dirs.frozen, f))),
      ).toBe(0);
    }
    expect(await errorOf(reg.checkout('cnn@v1', dest))).toMatchObject({
      code: 'DEST_EXISTS',
      message: expect.stringMatching(/exists and is not empty/),
    });
    await reg.checkout('cnn@v1', dest, { overwrite: true });
    expect(
      Buffer.compare(
        await readFile(join(dest, 'dense.weights.bin')),
        await readFile(join(dirs.base, 'dense.weights.bin')),
      ),
    ).toBe(0);
    expect(nodeFs.readdirSync(join(root, 'out'))).toEqual(['prod']);
  });
});

describe('integrity', () => {
  it.each([
    [
      'another valid blob of the same size',
      (orig: Buffer) =>
        deflateSync(
          Buffer.concat([Buffer.from(`blob ${orig.length}\0`), Buffer.alloc(orig.length, 7)]),
        ),
    ],
    ['garbage bytes', () => Buffer.from('not a zlib stream at all')],
  ])('a tampered blob (%s) is INTEGRITY and nothing is left at destDir', async (what, make) => {
    const repo = join(root, `tamper-${what.replace(/\W+/g, '-')}`);
    const reg = await openRegistry({ dir: repo, bare: true });
    await reg.register('cnn', dirs.base);
    const oid = (await reg.show('cnn@v1')).files.find((f) => f.path === 'dense_1.weights.bin')!.oid;
    const objPath = join(repo, 'objects', oid.slice(0, 2), oid.slice(2));
    const saved = await readFile(objPath);
    const size = MODEL_A_LAYERS.dense_1! * 4;
    await chmod(objPath, 0o644);
    await writeFile(objPath, make(Buffer.alloc(size)));
    const fresh = await openRegistry({ dir: repo });
    const out = join(root, `tamper-out-${what.replace(/\W+/g, '-')}`);
    const dest = join(out, 'x');
    const err = await errorOf(fresh.checkout('cnn@v1', dest));
    expect(err).toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(/dense_1\.weights\.bin/),
    });
    expect(err.data).toMatchObject({ path: 'dense_1.weights.bin', reason: 'unreadable' });
    expect(nodeFs.existsSync(dest)).toBe(false);
    expect(nodeFs.existsSync(out) ? nodeFs.readdirSync(out) : []).toEqual([]);
    await writeFile(objPath, saved);
    await (await openRegistry({ dir: repo })).checkout('cnn@v1', dest);
    expect(nodeFs.existsSync(join(dest, 'dense_1.weights.bin'))).toBe(true);
    await rm(out, { recursive: true });
  });
});

describe('checkout never replaces the registry itself', () => {
  it.each([
    ['the working tree', (repo: string) => repo],
    ['its .git directory', (repo: string) => join(repo, '.git')],
    ['a directory inside .git', (repo: string) => join(repo, '.git', 'objects', 'xx')],
    ['an ancestor of the repository', (repo: string) => join(repo, '..')],
    [
      'the repository through a relative path with a trailing slash',
      (repo: string) => `${repo}/./`,
    ],
  ])('refuses %s as destination with INVALID_OPTION, even with overwrite', async (what, dest) => {
    const repo = join(root, 'self', what.replace(/\W+/g, '-'), 'repo');
    const reg = await openRegistry({ dir: repo });
    await reg.register('cnn', dirs.base);
    const err = await errorOf(reg.checkout('cnn@v1', dest(repo), { overwrite: true }));
    expect(err).toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/checking out there would replace the registry/),
    });
    const again = await openRegistry({ dir: repo, create: false });
    expect((await again.resolve('cnn@v1')).version).toBe(1);
    await again.checkout('cnn@v1', join(root, 'self', what.replace(/\W+/g, '-'), 'out'));
  });

  it('refuses the bare repository and its ancestors', async () => {
    const repo = join(root, 'self-bare', 'models.git');
    const reg = await openRegistry({ dir: repo, bare: true });
    await reg.register('cnn', dirs.base);
    for (const dest of [repo, join(root, 'self-bare'), join(repo, 'refs')]) {
      expect(await errorOf(reg.checkout('cnn@v1', dest, { overwrite: true }))).toMatchObject({
        code: 'INVALID_OPTION',
      });
    }
    expect(nodeFs.existsSync(join(repo, 'HEAD'))).toBe(true);
    expect((await (await openRegistry({ dir: repo })).resolve('cnn@v1')).version).toBe(1);
  });
});

describe('integrity of stored objects read whole', () => {
  it.each([
    [
      'a tree header in place of a blob',
      (orig: number) => Buffer.concat([Buffer.from(`tree ${orig}\0`), Buffer.alloc(orig, 1)]),
    ],
    [
      'a blob header with the wrong size',
      (orig: number) => Buffer.concat([Buffer.from(`blob ${orig + 5}\0`), Buffer.alloc(orig, 1)]),
    ],
    [
      'a truncated stream',
      (orig: number) =>
        Buffer.concat([Buffer.from(`blob ${orig}\0`), Buffer.alloc(orig, 1)]).subarray(0, 100),
    ],
  ])('%s is INTEGRITY (unreadable), nothing left at destDir', async (what, content) => {
    const repo = join(root, `stream-${what.replace(/\W+/g, '-')}`);
    const reg = await openRegistry({ dir: repo, bare: true });
    await reg.register('cnn', dirs.base);
    const f = (await reg.show('cnn@v1')).files.find((x) => x.path === 'dense.weights.bin')!;
    const objPath = join(repo, 'objects', f.oid.slice(0, 2), f.oid.slice(2));
    await chmod(objPath, 0o644);
    const raw = deflateSync(content(f.bytes));
    await writeFile(objPath, what.includes('truncated') ? raw.subarray(0, raw.length >> 1) : raw);
    const dest = join(root, `stream-out-${what.replace(/\W+/g, '-')}`, 'cnn');
    expect(await errorOf(reg.checkout('cnn@v1', dest))).toMatchObject({
      code: 'INTEGRITY',
      data: { path: 'dense.weights.bin', reason: 'unreadable' },
    });
    expect(nodeFs.existsSync(dest)).toBe(false);
    expect(nodeFs.readdirSync(join(root, `stream-out-${what.replace(/\W+/g, '-')}`))).toEqual([]);
  });
});
