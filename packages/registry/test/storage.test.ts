// What a child version costs in git objects: unchanged layer files are the parent's blobs.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index';
import { MODEL_A_LAYERS } from '../src/testing';
import { dirBytes, gitCli, tempDir, writeModelDirs, type ModelDirs } from './helpers';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

describe('storage', () => {
  it('a frozen-conv child stores only its changed layers; a scratch child stores all', async () => {
    const repo = join(root, 'storage');
    const reg = await openRegistry({ dir: repo, bare: true });
    await reg.register('cnn', dirs.base);
    const objects = join(repo, 'objects');
    const b0 = await dirBytes(objects);
    await reg.register('cnn', dirs.frozen, { parent: 'cnn@v1' });
    const b1 = await dirBytes(objects);
    await reg.register('cnn', dirs.scratch, { parent: 'cnn@v1' });
    const b2 = await dirBytes(objects);
    const changed = (MODEL_A_LAYERS.dense! + MODEL_A_LAYERS.dense_1!) * 4;
    expect(b1 - b0).toBeLessThanOrEqual(changed + 16 * 1024);
    // the scratch child also stores new conv layers (conv2d_1 alone is 74 kB before zlib)
    expect(b2 - b1).toBeGreaterThan(b1 - b0 + 50_000);
    // git itself agrees the conv blobs are shared
    expect(
      (await gitCli(repo, 'rev-parse', 'cnn@v1.0.0:models/cnn/conv2d_1.weights.bin')).trim(),
    ).toBe((await gitCli(repo, 'rev-parse', 'cnn@v2.0.0:models/cnn/conv2d_1.weights.bin')).trim());
  });
});
