import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerThree, tempDir, writeModelDirs, type ModelDirs } from '../../test/helpers';
import { openRegistry } from '../index';
import { writeModelDirForTesting } from '../testing';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

describe('lineage', () => {
  it('walks lineage back to the root with strategy and dataset fingerprints', async () => {
    const reg = await openRegistry({ dir: join(root, 'lineage'), bare: true });
    await registerThree(reg, dirs);
    const steps = await reg.lineage('cnn@v2');
    expect(steps.map((s) => [s.tag, s.strategy, s.datasets.train?.fingerprint, s.parent])).toEqual([
      ['cnn@v2.0.0', 'freeze', 'sha256:bbbb2222', 'cnn@v1.0.0'],
      ['cnn@v1.0.0', null, 'sha256:aaaa1111', null],
    ]);
  });
});

describe('parents recorded in mlship.json', () => {
  it.each([
    ['a ref of this registry', 'cnn@v1', 'cnn@v1.0.0', 2],
    [
      'an object { name, version }',
      { name: 'cnn', version: 1, ref: 'cnn@v1.0.0' },
      'cnn@v1.0.0',
      2,
    ],
    ['a model outside this registry', 'hub/resnet-base', 'hub/resnet-base', 1],
  ])(
    'accepts %s and walks lineage as far as it can',
    async (_what, parentValue, recorded, steps) => {
      const repo = join(root, `parents-${steps}-${String(recorded).replace(/\W/g, '')}`);
      const reg = await openRegistry({ dir: repo, bare: true });
      await reg.register('cnn', dirs.base);
      const dir = join(root, 'parents', String(recorded).replace(/\W/g, '-'));
      await writeModelDirForTesting(dir, { seed: 9, parent: parentValue, strategy: 'fine-tune' });
      const v = await reg.register('cnn', dir);
      expect((await reg.show(v.tag)).record.parent).toBe(recorded);
      const lineage = await reg.lineage(v.tag);
      expect(lineage).toHaveLength(steps);
      expect(lineage[0]).toMatchObject({ strategy: 'fine-tune', parent: recorded });
    },
  );
});
