import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assignStages,
  registerThree,
  tempDir,
  writeModelDirs,
  type ModelDirs,
} from '../../test/helpers';
import { openRegistry } from '../index';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

describe('deregister', () => {
  it('deregisters a version GTO-style: latest skips it, its number is not reused', async () => {
    const reg = await openRegistry({ dir: join(root, 'deregister'), bare: true });
    await registerThree(reg, dirs);
    await assignStages(reg); // events 1-4: the deregistration is event 5
    const r = await reg.deregister('cnn@v3', { message: 'bad data' });
    expect(r.deregistrationTag).toBe('cnn@v3.0.0!#5');
    expect((await reg.resolve('cnn@latest')).version).toBe(2);
    expect((await reg.versions('cnn')).map((v) => v.deregistered)).toEqual([false, false, true]);
    expect((await reg.register('cnn', dirs.base)).version).toBe(4);
  });
});
