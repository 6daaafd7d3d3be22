import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createFsFromVolume, Volume } from 'memfs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFsAdapter } from './fs';
import type { MlshipFs } from './fs';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'mlship-fs-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('FsAdapter over node:fs', () => {
  const io = createFsAdapter();

  it('writeAtomic replaces a file and leaves no temporary behind', async () => {
    const file = path.join(root, 'a.json');
    await writeFile(file, 'old');
    await io.writeAtomic(file, 'new', { fsync: true });
    expect(await readFile(file, 'utf8')).toBe('new');
    expect(await readdir(root)).toEqual(['a.json']);
  });

  it('readRegular reads a regular file and refuses a symlink, a FIFO and /dev/zero without blocking', async () => {
    const file = path.join(root, 'f.bin');
    await writeFile(file, new Uint8Array([1, 2, 3]));
    expect(await io.readRegular(file)).toEqual({
      kind: 'ok',
      data: new Uint8Array([1, 2, 3]),
      bytes: 3,
    });
    await symlink(file, path.join(root, 'link'));
    expect(await io.readRegular(path.join(root, 'link'))).toEqual({
      kind: 'not-regular',
      type: 'symlink',
    });
    execFileSync('mkfifo', [path.join(root, 'fifo.png')]);
    expect(await io.readRegular(path.join(root, 'fifo.png'))).toEqual({
      kind: 'not-regular',
      type: 'other',
    });
    expect(await io.readRegular('/dev/zero')).toEqual({ kind: 'not-regular', type: 'other' });
    expect(await io.readRegular(path.join(root, 'nope'))).toEqual({ kind: 'missing' });
  });

  it('readRegular refuses a file over maxBytes without reading it', async () => {
    const file = path.join(root, 'big.bin');
    await writeFile(file, new Uint8Array(5000));
    expect(await io.readRegular(file, { maxBytes: 4096 })).toEqual({
      kind: 'too-large',
      bytes: 5000,
    });
  });

  it('hashRegular streams: the same sha256 as hashing the whole file, for a multi-chunk file', async () => {
    const data = new Uint8Array((1 << 20) * 2 + 5).map((_, i) => i % 251);
    const file = path.join(root, 'x.bin');
    await writeFile(file, data);
    expect(await io.hashRegular(file)).toEqual({
      kind: 'ok',
      sha256: createHash('sha256').update(data).digest('hex'),
      bytes: data.byteLength,
    });
  });

  it('rmrf removes a tree without following a symlink out of it', async () => {
    const outside = path.join(root, 'keep');
    await writeFile(outside, 'keep');
    const tree = path.join(root, 'tree');
    execFileSync('mkdir', ['-p', path.join(tree, 'sub')]);
    await writeFile(path.join(tree, 'sub', 'a'), 'a');
    await symlink(root, path.join(tree, 'up'));
    await io.rmrf(tree);
    expect(await readdir(root)).toEqual(['keep']);
  });
});

describe('FsAdapter over memfs (no O_NOFOLLOW flags)', () => {
  it('reads, writes atomically, refuses symlinks and hashes', async () => {
    const vol = new Volume();
    const io = createFsAdapter(createFsFromVolume(vol));
    await io.mkdirp('/d/e');
    await io.writeAtomic('/d/e/f.txt', 'hello');
    expect(await io.readText('/d/e/f.txt')).toBe('hello');
    vol.symlinkSync('/d/e/f.txt', '/d/link');
    expect(await io.readRegular('/d/link')).toEqual({ kind: 'not-regular', type: 'symlink' });
    expect(await io.hashRegular('/d/e/f.txt')).toMatchObject({
      kind: 'ok',
      sha256: createHash('sha256').update('hello').digest('hex'),
      bytes: 5,
    });
    expect(await io.readdir('/d')).toEqual(['e', 'link']);
    expect(await io.readdir('/missing')).toEqual([]);
  });
});

describe('createFsAdapter', () => {
  it('names the missing methods of something that is not a file system', () => {
    expect(() =>
      createFsAdapter({ promises: { readFile: () => Promise.resolve('') } } as unknown as MlshipFs),
    ).toThrow(/missing: writeFile, mkdir, readdir, stat, lstat, unlink, rmdir/);
  });
});
