// resolve: every reference form, checked against what the real git CLI resolves the tag to.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry, type Registry } from '../src/index';
import { assignStages, gitCli, registerThree, tempDir, writeModelDirs } from './helpers';

let root: string;
let cleanup: () => Promise<void>;
let repo: string;
let reg: Registry;
// One registry built once and only read by the tests below.
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  const dirs = await writeModelDirs(root);
  repo = join(root, 'resolve');
  reg = await openRegistry({ dir: repo });
  await registerThree(reg, dirs);
  await assignStages(reg);
});
afterAll(async () => cleanup());

describe('resolve', () => {
  it.each([
    ['cnn@v2', 2],
    ['cnn@v2.0.0', 2],
    ['cnn@2', 2],
    ['cnn@latest', 3],
    ['cnn', 3],
    ['cnn#production', 2],
    ['cnn#production#1', 1],
    ['cnn#staging#2', 2],
  ])('resolves %s to version %i', async (ref, version) => {
    const r = await reg.resolve(ref);
    expect(r.version).toBe(version);
    expect((await gitCli(repo, 'rev-parse', `${r.tag}^{commit}`)).trim()).toBe(r.commit);
  });
});
