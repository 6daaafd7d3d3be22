import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, tempDir, writeModelDirs } from '../../test/helpers';
import { openRegistry, type Registry } from '../index';

let root: string;
let cleanup: () => Promise<void>;
// One registry holding cnn@v1 and no stages; every test below is refused before writing.
let reg: Registry;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  const dirs = await writeModelDirs(root);
  reg = await openRegistry({ dir: join(root, 'errors'), bare: true });
  await reg.register('cnn', dirs.base);
});
afterAll(async () => cleanup());

describe('assign / unassign refuse bad input with typed errors', () => {
  it.each(['../x', 'prod/x', 'Prod', 'a b'])('rejects the stage name %j', async (stage) => {
    expect(await errorOf(reg.assign('cnn@v1', stage))).toMatchObject({
      code: 'INVALID_NAME',
      message: expect.stringMatching(/Invalid stage name/),
    });
  });

  it.each([
    [
      'an alias to a missing version',
      () => reg.assign('cnn@v9', 'production'),
      'VERSION_NOT_FOUND',
      /Version 9 of cnn not found/,
    ],
    [
      'an alias of an unknown model',
      () => reg.assign('nope@v1', 'production'),
      'MODEL_NOT_FOUND',
      /Model "nope" has no registered versions/,
    ],
    [
      'removing an unassigned stage',
      () => reg.unassign('cnn', 'production'),
      'STAGE_NOT_ASSIGNED',
      /not assigned/,
    ],
  ])('rejects %s', async (_what, run, code, message) => {
    expect(await errorOf(run())).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(await reg.stageHistory('cnn')).toEqual([]);
  });
});
