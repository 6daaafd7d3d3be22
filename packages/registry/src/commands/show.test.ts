import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MODEL_A_FILES,
  registerThree,
  tempDir,
  writeModelDirs,
  type ModelDirs,
} from '../../test/helpers';
import { openRegistry } from '../index';
import { MODEL_A_LAYERS } from '../testing';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

describe('show', () => {
  it('shows one version with record, files, parent and lineage', async () => {
    const reg = await openRegistry({ dir: join(root, 'show'), bare: true });
    await registerThree(reg, dirs);
    const d = await reg.show('cnn@v2');
    expect(d.parent?.tag).toBe('cnn@v1.0.0');
    expect(d.lineage.map((s) => [s.tag, s.strategy])).toEqual([
      ['cnn@v2.0.0', 'freeze'],
      ['cnn@v1.0.0', null],
    ]);
    expect(d.record.params).toMatchObject({ learningRate: 0.0005 });
    expect(d.record.datasets.train?.fingerprint).toBe('sha256:bbbb2222');
    expect(d.files.map((f) => f.path)).toEqual(MODEL_A_FILES);
    expect(d.files.find((f) => f.path === 'dense.weights.bin')?.bytes).toBe(
      MODEL_A_LAYERS.dense! * 4,
    );
    expect(d.metadata).toMatchObject({ format: 'mlship-model/1', strategy: 'freeze' });
  });
});
