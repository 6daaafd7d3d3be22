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

  it('a registration with stages cut off before its stage tags gets them back, byte-identical, and no second version', async () => {
    const repo = join(root, 'repair-stages');
    const reg = await openRegistry({ dir: repo, bare: true });
    await reg.register('cnn', dirs.base);
    await reg.assign('cnn@v1', 'staging');
    const v2 = await reg.register('cnn', dirs.frozen, { stages: ['production', 'staging'] });
    const tags = ['cnn#production#2', 'cnn#staging#3'];
    const oids = await Promise.all(
      tags.map(async (t) => (await gitCli(repo, 'rev-parse', t)).trim()),
    );
    expect(await gitCli(repo, 'log', '-1', '--format=%B', 'mlship')).toMatch(
      /^Mlship-Stage: production#2\nMlship-Stage: staging#3$/m,
    );
    // the process died after the branch moved: no version tag, no stage tags
    for (const t of ['cnn@v2.0.0', ...tags]) await unlink(join(repo, 'refs', 'tags', t));
    const reopened = await openRegistry({ dir: repo });
    for (const [i, t] of tags.entries())
      expect((await gitCli(repo, 'rev-parse', t)).trim()).toBe(oids[i]);
    expect((await reopened.resolve('cnn#production')).commit).toBe(v2.commit);
    expect((await reopened.resolve('cnn#staging')).version).toBe(2);
    expect((await reopened.versions('cnn')).map((v) => v.version)).toEqual([1, 2]);
    await fsckStrict(repo);
  });

  it('a write repairs first: an assign after a cut-off registration does not take its stage counter', async () => {
    const repo = join(root, 'repair-before-assign');
    const reg = await openRegistry({ dir: repo, bare: true });
    await reg.register('cnn', dirs.base, { stages: ['production'] });
    await unlink(join(repo, 'refs', 'tags', 'cnn#production#1'));
    const e = await reg.assign('cnn@v1', 'staging');
    expect(e.tag).toBe('cnn#staging#2');
    expect(await gitCli(repo, 'tag', '-l', 'cnn#*')).toBe('cnn#production#1\ncnn#staging#2\n');
  });
});
