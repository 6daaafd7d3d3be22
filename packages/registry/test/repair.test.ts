// repair: a registration cut off after its commit point is completed, byte-identically.
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index';
import { fsckStrict, gitCli, tempDir, writeModelDirs, type ModelDirs } from './helpers';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

describe('recovery', () => {
  it('open() recreates the version tag of a registration interrupted after its commit point, byte-identical', async () => {
    const repo = join(root, 'repair');
    const reg = await openRegistry({ dir: repo, bare: true });
    await reg.register('cnn', dirs.base);
    const v2 = await reg.register('cnn', dirs.frozen);
    const tagOid = (await gitCli(repo, 'rev-parse', 'cnn@v2.0.0')).trim();
    await unlink(join(repo, 'refs', 'tags', 'cnn@v2.0.0'));
    const reopened = await openRegistry({ dir: repo });
    expect((await gitCli(repo, 'rev-parse', 'cnn@v2.0.0')).trim()).toBe(tagOid);
    expect((await reopened.resolve('cnn@latest')).commit).toBe(v2.commit);
    await fsckStrict(repo);
  });
});
