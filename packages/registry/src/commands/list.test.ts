import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerThree, tempDir, writeModelDirs, type ModelDirs } from '../../test/helpers';
import { openRegistry } from '../index';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

describe('models / versions', () => {
  it('lists models and versions with metrics and messages', async () => {
    const reg = await openRegistry({ dir: join(root, 'list'), bare: true });
    await registerThree(reg, dirs);
    expect(await reg.models()).toEqual([{ name: 'cnn', latest: 3, versions: 3, stages: {} }]);
    const versions = await reg.versions('cnn');
    expect(versions.map((v) => [v.version, v.metrics.accuracy, v.message])).toEqual([
      [1, 0.91, 'baseline'],
      [2, 0.95, 'freeze conv, retrain head'],
      [3, 0.93, ''],
    ]);
  });

  it('lists an unknown model as no versions, and no models in an empty registry', async () => {
    const reg = await openRegistry({ dir: join(root, 'empty'), bare: true });
    expect(await reg.models()).toEqual([]);
    expect(await reg.versions('cnn')).toEqual([]);
    expect(await reg.stages('cnn')).toEqual({});
    expect(await reg.stageHistory('cnn')).toEqual([]);
  });
});
