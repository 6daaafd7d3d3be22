// The registry beside git's own maintenance: `git gc` packs objects and refs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index';
import {
  assignStages,
  fsckStrict,
  gitCli,
  registerThree,
  tempDir,
  writeModelDirs,
  type ModelDirs,
} from './helpers';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

describe('git gc', () => {
  it('keeps working after `git gc` packs its objects and refs (no duplicate objects written)', async () => {
    const repo = join(root, 'gc');
    await gitCli(root, 'init', '-q', '-b', 'main', repo);
    const reg = await openRegistry({ dir: repo });
    await registerThree(reg, dirs);
    await assignStages(reg);
    await gitCli(repo, 'gc', '-q');
    const looseCount = async (): Promise<number> =>
      Number(/^count: (\d+)$/m.exec(await gitCli(repo, 'count-objects', '-v'))?.[1]);
    const loose0 = await looseCount(); // unreachable objects (deleted tags) would stay loose
    expect(loose0).toBeLessThanOrEqual(2);
    expect(await readFile(join(repo, '.git', 'packed-refs'), 'utf8')).toMatch(
      /refs\/tags\/cnn@v1\.0\.0/,
    );
    const again = await openRegistry({ dir: repo });
    const before = (await again.versions('cnn')).length;
    const v = await again.register('cnn', dirs.base);
    expect(v.version).toBe(before + 1);
    // only the new record, trees, commit and tag are loose: the weights were already packed
    expect((await looseCount()) - loose0).toBeLessThanOrEqual(8);
    await again.checkout('cnn@v1', join(root, 'after-gc'));
    expect((await again.resolve('cnn#production')).version).toBe(2);
    await fsckStrict(repo);
  });
});
