import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, tempDir, writeModelDirs, type ModelDirs } from '../../test/helpers';
import { openRegistry, type RegistryFs } from '../index';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

/** node:fs with every write under `repo` refused with EROFS (a read-only mount). */
function readOnlyFs(repo: string): RegistryFs {
  const deny = (path: unknown): void => {
    if (String(path).startsWith(repo)) {
      throw Object.assign(new Error(`EROFS: read-only file system, ${String(path)}`), {
        code: 'EROFS',
      });
    }
  };
  const p = nodeFs.promises;
  return {
    promises: {
      ...p,
      readFile: p.readFile,
      writeFile: async (path: string, ...rest: unknown[]) => (
        deny(path),
        (p.writeFile as (...a: unknown[]) => Promise<void>)(path, ...rest)
      ),
      mkdir: async (path: string, ...rest: unknown[]) => (
        deny(path),
        (p.mkdir as (...a: unknown[]) => Promise<unknown>)(path, ...rest)
      ),
      rename: async (from: string, to: string) => (deny(to), p.rename(from, to)),
      unlink: async (path: string) => (deny(path), p.unlink(path)),
    },
  };
}

describe('read-only repositories', () => {
  it('open, resolve, list, show, lineage, diff and checkout write nothing into the repository', async () => {
    const repo = join(root, 'readonly');
    const writer = await openRegistry({ dir: repo, bare: true });
    await writer.register('cnn', dirs.base);
    await writer.register('cnn', dirs.frozen, { parent: 'cnn@v1', stages: ['production'] });
    const reader = await openRegistry({ dir: repo, fs: readOnlyFs(repo), create: false });
    expect((await reader.resolve('cnn#production')).version).toBe(2);
    expect(await reader.models()).toEqual([
      { name: 'cnn', latest: 2, versions: 2, stages: { production: 2 } },
    ]);
    expect((await reader.lineage('cnn@v2')).length).toBe(2);
    expect((await reader.diff('cnn@v1', 'cnn@v2')).files.length).toBe(6);
    await reader.checkout('cnn#production', join(root, 'ro-out'));
    expect(await errorOf(reader.assign('cnn@v1', 'staging'))).toMatchObject({
      code: 'WRITE_FAILED',
      message: expect.stringMatching(/Cannot create the registry lock .*mlship\.lock \(EROFS/),
    });
  });
});

describe('read-only open', () => {
  it('opens a read-only mount with a registration cut off half-way, reads every complete version, refuses writes', async () => {
    const repo = join(root, 'readonly-pending');
    const writer = await openRegistry({ dir: repo, bare: true });
    await writer.register('cnn', dirs.base, { stages: ['production'] });
    await writer.register('cnn', dirs.frozen);
    // cut off after the commit point: v2's tag is missing, a repair is pending
    await nodeFs.promises.unlink(join(repo, 'refs', 'tags', 'cnn@v2.0.0'));
    const fs = readOnlyFs(repo);
    expect(await errorOf(openRegistry({ dir: repo, fs, create: false }))).toMatchObject({
      code: 'WRITE_FAILED',
    });
    const reader = await openRegistry({ dir: repo, fs, readOnly: true });
    expect((await reader.versions('cnn')).map((v) => v.version)).toEqual([1]);
    expect((await reader.resolve('cnn#production')).version).toBe(1);
    await reader.checkout('cnn@latest', join(root, 'ro-pending-out'));
    for (const write of [
      () => reader.register('cnn', dirs.scratch),
      () => reader.assign('cnn@v1', 'staging'),
      () => reader.repair(),
    ]) {
      expect(await errorOf(write())).toMatchObject({
        code: 'WRITE_FAILED',
        message: expect.stringMatching(/opened with \{ readOnly: true \}/),
      });
    }
    // and a writable open completes v2
    expect((await (await openRegistry({ dir: repo })).resolve('cnn@latest')).version).toBe(2);
  });

  it('does not create a repository', async () => {
    expect(
      await errorOf(openRegistry({ dir: join(root, 'nothing'), readOnly: true })),
    ).toMatchObject({ code: 'NOT_A_REPOSITORY' });
    expect(nodeFs.existsSync(join(root, 'nothing'))).toBe(false);
  });
});
