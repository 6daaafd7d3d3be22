import * as nodeFs from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeModelDirs, type ModelDirs } from '../../test/helpers';
import { openRegistry } from '../index';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

describe('torn lock', () => {
  it('an empty lock file (a writer killed between create and write) is broken once it is 2 s old', async () => {
    const repo = join(root, 'torn');
    const reg = await openRegistry({ dir: repo, bare: true });
    await writeFile(join(repo, 'mlship.lock'), '');
    const old = new Date(Date.now() - 5_000);
    await nodeFs.promises.utimes(join(repo, 'mlship.lock'), old, old);
    expect((await reg.register('cnn', dirs.base)).version).toBe(1);
    expect(nodeFs.existsSync(join(repo, 'mlship.lock'))).toBe(false);
  });
});
