// Tags made by hand with the git CLI in the registry's grammar: read or refused explicitly, never
// overwritten, never served under a number their record does not carry.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index';
import { errorOf, fsckStrict, gitCli, tempDir, writeModelDirs, type ModelDirs } from './helpers';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

/** `git -c` arguments giving the hand-made annotated tags a tagger. */
const BY_HAND = ['-c', 'user.name=u', '-c', 'user.email=u@x'];

describe('hand-made tags in the GTO grammar', () => {
  it('a lightweight version tag is listed, never overwritten, and not checked out under a number its record lacks', async () => {
    const repo = join(root, 'lightweight');
    const reg = await openRegistry({ dir: repo, bare: true });
    const v1 = await reg.register('cnn', dirs.base);
    await reg.register('cnn', dirs.frozen);
    await gitCli(repo, 'tag', 'cnn@v3.0.0', v1.commit);
    expect((await reg.versions('cnn')).map((v) => [v.version, v.commit])).toEqual([
      [1, v1.commit],
      [2, expect.stringMatching(/^[0-9a-f]{40}$/)],
      [3, v1.commit],
    ]);
    const v4 = await reg.register('cnn', dirs.scratch);
    expect(v4.version).toBe(4);
    expect((await gitCli(repo, 'rev-parse', 'cnn@v3.0.0')).trim()).toBe(v1.commit);
    expect(await errorOf(reg.checkout('cnn@v3', join(root, 'out-v3')))).toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(
        /Tag cnn@v3\.0\.0 points at commit [0-9a-f]{40}, whose registry record \.mlship\/cnn\.json is "cnn" version 1, not version 3/,
      ),
      data: { path: '.mlship/cnn.json', reason: 'missing' },
    });
    await fsckStrict(repo);
  });

  it('an annotated tag on another version’s commit is refused by checkout, show, lineage and diff', async () => {
    const repo = join(root, 'annotated');
    const reg = await openRegistry({ dir: repo, bare: true });
    await reg.register('cnn', dirs.base);
    const v2 = await reg.register('cnn', dirs.frozen);
    await gitCli(repo, ...BY_HAND, 'tag', '-a', '-m', 'by hand', 'cnn@v7.0.0', v2.commit);
    for (const run of [
      () => reg.checkout('cnn@v7', join(root, 'out-v7')),
      () => reg.show('cnn@v7'),
      () => reg.lineage('cnn@v7'),
      () => reg.diff('cnn@v1', 'cnn@v7'),
    ]) {
      expect(await errorOf(run())).toMatchObject({
        code: 'INTEGRITY',
        data: { reason: 'missing' },
      });
    }
    expect((await reg.register('cnn', dirs.scratch)).version).toBe(8);
  });

  it('a tag of the grammar pointing at a blob is not a version, but its number stays taken', async () => {
    const repo = join(root, 'blob-tag');
    const reg = await openRegistry({ dir: repo, bare: true });
    await reg.register('cnn', dirs.base);
    const blob = (await gitCli(repo, 'rev-parse', 'cnn@v1.0.0:models/cnn/model.json')).trim();
    await gitCli(repo, 'tag', 'cnn@v2.0.0', blob);
    expect((await reg.versions('cnn')).map((v) => v.version)).toEqual([1]);
    expect((await reg.register('cnn', dirs.frozen)).version).toBe(3);
    expect((await gitCli(repo, 'rev-parse', 'cnn@v2.0.0')).trim()).toBe(blob);
  });

  it.each(['9007199254740992', '9007199254740993'])(
    'an annotated stage tag with the counter %s (past 2^53 - 1) is ignored and does not break later assignments',
    async (counter) => {
      const repo = join(root, `huge-counter-${counter}`);
      const reg = await openRegistry({ dir: repo, bare: true });
      const v1 = await reg.register('cnn', dirs.base);
      // annotated, as the registry writes its events (and as a pull brings another one's in):
      // read as counter 2^53, the next one (2^53 + 1) would round back onto it
      const huge = `cnn#production#${counter}`;
      await gitCli(repo, ...BY_HAND, 'tag', '-a', '-m', 'by hand', huge, v1.commit);
      const a = await reg.assign('cnn@v1', 'production');
      const b = await reg.assign('cnn@v1', 'staging');
      expect([a.tag, b.tag]).toEqual(['cnn#production#1', 'cnn#staging#2']);
      expect((await reg.stageHistory('cnn')).map((e) => e.counter)).toEqual([1, 2]);
      expect((await gitCli(repo, 'rev-parse', `${huge}^{commit}`)).trim()).toBe(v1.commit);
      await fsckStrict(repo);
    },
  );
});
