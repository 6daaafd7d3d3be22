// A weight file past 2 GiB (node's Buffer limit): register and checkout stream it in chunks,
// where reading it whole fails (ERR_FS_FILE_TOO_LARGE) or exhausts memory.
import { createHash } from 'node:crypto';
import { mkdir, open, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index';
import { tempDir } from './helpers';

const SIZE = 2 ** 31 + 4096;

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('mlship-large-'));
});
afterAll(async () => cleanup());

/** sha256 of `n` zero bytes, in chunks. */
function zerosSha256(n: number): string {
  const h = createHash('sha256');
  const chunk = Buffer.alloc(1 << 24);
  for (let left = n; left > 0; left -= chunk.length)
    h.update(chunk.subarray(0, Math.min(left, chunk.length)));
  return h.digest('hex');
}

describe('a weight file larger than 2 GiB', () => {
  it('registers and checks out, verified, streamed in chunks', async () => {
    const dir = join(root, 'big');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'big.weights.bin'), '');
    await truncate(join(dir, 'big.weights.bin'), SIZE); // sparse: no 2 GiB written
    const modelJson = JSON.stringify({
      format: 'layers-model',
      modelTopology: {},
      weightsManifest: [{ paths: ['big.weights.bin'], weights: [] }],
    });
    await writeFile(join(dir, 'model.json'), modelJson);
    const sha = zerosSha256(SIZE);
    await writeFile(
      join(dir, 'mlship.json'),
      JSON.stringify({
        format: 'mlship-model/1',
        name: 'big',
        labels: ['a', 'b'],
        input: { shape: [1, 1, 1], dtype: 'float32', scale: 1, offset: 0 },
        spec: null,
        training: {},
        history: [],
        metrics: {},
        datasets: {},
        parent: null,
        strategy: null,
        created: '2030-01-01T00:00:00.000Z',
        files: {
          'big.weights.bin': { sha256: sha, bytes: SIZE },
          'model.json': {
            sha256: createHash('sha256').update(modelJson).digest('hex'),
            bytes: Buffer.byteLength(modelJson),
          },
        },
      }),
    );
    const repo = join(root, 'repo');
    const reg = await openRegistry({ dir: repo, bare: true });
    const v = await reg.register('big', dir);
    expect(v.version).toBe(1);
    const out = join(root, 'out');
    const res = await reg.checkout('big@v1', out);
    expect(res.files.find((f) => f.path === 'big.weights.bin')).toMatchObject({
      bytes: SIZE,
      sha256: sha,
    });
    expect((await stat(join(out, 'big.weights.bin'))).size).toBe(SIZE);
    // spot-check the bytes: zeros at both ends
    const h = await open(join(out, 'big.weights.bin'), 'r');
    const buf = Buffer.alloc(16);
    await h.read(buf, 0, 16, SIZE - 16);
    await h.close();
    expect(buf.equals(Buffer.alloc(16))).toBe(true);
  }, 600_000);
});
