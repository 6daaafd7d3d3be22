// assign / unassign, read back with the real git CLI.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index';
import {
  errorOf,
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

describe('stages', () => {
  it('assigns, moves and removes stages, keeping every assignment as a tag', async () => {
    const repo = join(root, 'stages');
    const reg = await openRegistry({ dir: repo });
    await registerThree(reg, dirs);
    const e1 = await reg.assign('cnn@v1', 'production');
    await reg.assign('cnn@v2', 'staging', { message: 'candidate' });
    const e3 = await reg.assign('cnn#staging', 'production', { message: 'promote' });
    expect([e1.tag, e3.tag]).toEqual(['cnn#production#1', 'cnn#production#3']);
    expect((await reg.resolve('cnn#production')).version).toBe(2);
    const un = await reg.unassign('cnn', 'staging');
    expect(un.tag).toBe('cnn#staging!#4');
    expect(Object.keys(await reg.stages('cnn'))).toEqual(['production']);
    expect(
      (await reg.stageHistory('cnn', 'production')).map((e) => [
        e.counter,
        e.action,
        e.version,
        e.message,
      ]),
    ).toEqual([
      [1, 'assign', 1, ''],
      [3, 'assign', 2, 'promote'],
    ]);
    expect(await gitCli(repo, 'tag', '-l', 'cnn#*')).toBe(
      'cnn#production#1\ncnn#production#3\ncnn#staging!#4\ncnn#staging#2\n',
    );
    expect((await gitCli(repo, 'rev-parse', 'cnn#production#3^{commit}')).trim()).toBe(
      (await reg.resolve('cnn@v2')).commit,
    );
    expect(await gitCli(repo, 'tag', '-n1', '-l', 'cnn#staging!#4')).toMatch(
      /Unassigning stage staging from artifact cnn version v2\.0\.0/,
    );
    expect(await errorOf(reg.resolve('cnn#staging'))).toMatchObject({
      code: 'STAGE_NOT_ASSIGNED',
      message: expect.stringMatching(/Stage "staging" of cnn/),
    });
    expect((await reg.models())[0]?.stages).toEqual({ production: 2 });
    await fsckStrict(repo);
  });
});
