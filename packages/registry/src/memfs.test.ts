import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Volume, createFsFromVolume } from 'memfs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers';
import { isRegistryError, openRegistry, type RegistryFs } from './index';
import { writeModelDirForTesting } from './testing';

let src: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  const t = await tempDir('mlship-memfs-');
  cleanup = t.cleanup;
  src = join(t.dir, 'm');
  await writeModelDirForTesting(src, { seed: 4, metrics: { accuracy: 0.5 } });
});
afterAll(async () => cleanup());

describe('pluggable fs (memfs, nothing on disk)', () => {
  it('creates, registers, assigns, resolves and checks out entirely in memory', async () => {
    const vol = new Volume();
    const fs = createFsFromVolume(vol) as unknown as RegistryFs;
    vol.mkdirSync('/m', { recursive: true });
    for (const f of await readdir(src)) vol.writeFileSync(`/m/${f}`, await readFile(join(src, f)));

    const reg = await openRegistry({
      dir: '/repo',
      fs,
      bare: true,
      clock: () => new Date('2031-05-06T07:08:09Z'),
    });
    const v = await reg.register('cnn', '/m');
    await reg.assign(v.tag, 'production');
    expect((await reg.resolve('cnn#production')).commit).toBe(v.commit);
    expect((await reg.versions('cnn'))[0]).toMatchObject({
      version: 1,
      metrics: { accuracy: 0.5 },
      created: '2031-05-06T07:08:09.000Z',
    });
    await reg.checkout('cnn@v1', '/out/cnn');
    expect(
      Buffer.compare(
        vol.readFileSync('/out/cnn/dense.weights.bin') as Buffer,
        await readFile(join(src, 'dense.weights.bin')),
      ),
    ).toBe(0);
    expect(vol.existsSync('/repo/mlship.lock')).toBe(false);
    try {
      await reg.checkout('cnn@v1', '/out/cnn');
      expect.unreachable();
    } catch (e) {
      expect(isRegistryError(e) && e.code).toBe('DEST_EXISTS');
    }
  });
});
