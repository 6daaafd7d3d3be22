import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, tempDir, writeModelDirs } from '../../test/helpers';
import { isRegistryError, openRegistry, type Registry } from '../index';

let root: string;
let cleanup: () => Promise<void>;
let reg: Registry;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  const dirs = await writeModelDirs(root);
  reg = await openRegistry({ dir: join(root, 'errors'), bare: true });
  await reg.register('cnn', dirs.base);
});
afterAll(async () => cleanup());

describe('resolve errors', () => {
  it('rejects a malformed ref', async () => {
    expect(await errorOf(reg.resolve('cnn@@1'))).toMatchObject({
      code: 'INVALID_REF',
      message: expect.stringMatching(/Invalid version reference "cnn@@1"/),
    });
  });

  it('errors serialise to JSON with code and data', async () => {
    try {
      await reg.resolve('cnn@v5');
      expect.unreachable();
    } catch (e) {
      expect(isRegistryError(e)).toBe(true);
      expect(JSON.parse(JSON.stringify(e))).toMatchObject({
        name: 'RegistryError',
        code: 'VERSION_NOT_FOUND',
        data: { ref: 'cnn@v5' },
      });
    }
  });
});
