// Model directories past 16 MiB are streamed in chunks by register and checkout: from loose
// objects and from packs, verified on the way, refusing tampered objects and files that change
// while they are read.
import * as nodeFs from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry, type RegistryFs } from '../src/index';
import { writeModelDirForTesting } from '../src/testing';
import { errorOf, fsckStrict, gitCli, tempDir } from './helpers';

const LAYERS = { big: 4_500_000, head: 1290 }; // 18 MB + 5 kB of float32

let root: string;
let cleanup: () => Promise<void>;
let model: string;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('mlship-streaming-'));
  model = join(root, 'model');
  await writeModelDirForTesting(model, { layers: LAYERS, seed: 3 });
});
afterAll(async () => cleanup());

async function sameFiles(a: string, b: string): Promise<void> {
  for (const f of ['big.weights.bin', 'head.weights.bin', 'model.json', 'mlship.json'])
    expect(Buffer.compare(await readFile(join(a, f)), await readFile(join(b, f)))).toBe(0);
}

describe('streamed register and checkout', () => {
  it('round-trips byte-identical from loose objects and, after git gc, from the pack', async () => {
    const repo = join(root, 'roundtrip');
    const reg = await openRegistry({ dir: repo, bare: true });
    const v = await reg.register('big', model);
    expect(
      (await gitCli(repo, 'cat-file', '-s', `${v.tag}:models/big/big.weights.bin`)).trim(),
    ).toBe(String(LAYERS.big * 4));
    await reg.checkout('big@v1', join(root, 'out-loose'));
    await sameFiles(join(root, 'out-loose'), model);
    await gitCli(repo, 'gc', '-q');
    expect(
      nodeFs.readdirSync(join(repo, 'objects')).filter((d) => /^[0-9a-f]{2}$/.test(d)),
    ).toEqual([]);
    const res = await (
      await openRegistry({ dir: repo })
    ).checkout('big@v1', join(root, 'out-pack'));
    await sameFiles(join(root, 'out-pack'), model);
    expect(res.files.find((f) => f.path === 'big.weights.bin')?.bytes).toBe(LAYERS.big * 4);
    await fsckStrict(repo);
  });

  it.each([
    [
      'a tree header in place of a blob',
      (n: number) => Buffer.concat([Buffer.from(`tree ${n}\0`), Buffer.alloc(n, 1)]),
    ],
    [
      'a blob header with the wrong size',
      (n: number) => Buffer.concat([Buffer.from(`blob ${n + 5}\0`), Buffer.alloc(n, 1)]),
    ],
    [
      'another blob of the same size',
      (n: number) => Buffer.concat([Buffer.from(`blob ${n}\0`), Buffer.alloc(n, 1)]),
    ],
    [
      'a truncated stream',
      (n: number) =>
        Buffer.concat([Buffer.from(`blob ${n}\0`), Buffer.alloc(n, 1)]).subarray(0, 1000),
    ],
  ])(
    'a loose object with %s is INTEGRITY, and nothing is left at destDir',
    async (what, content) => {
      const repo = join(root, `tamper-${what.replace(/\W+/g, '-')}`);
      const reg = await openRegistry({ dir: repo, bare: true });
      await reg.register('big', model);
      const f = (await reg.show('big@v1')).files.find((x) => x.path === 'big.weights.bin')!;
      const objPath = join(repo, 'objects', f.oid.slice(0, 2), f.oid.slice(2));
      await chmod(objPath, 0o644);
      await writeFile(objPath, deflateSync(content(f.bytes)));
      const out = join(root, `tamper-out-${what.replace(/\W+/g, '-')}`);
      expect(await errorOf(reg.checkout('big@v1', join(out, 'big')))).toMatchObject({
        code: 'INTEGRITY',
        data: { path: 'big.weights.bin', reason: 'unreadable' },
      });
      expect(nodeFs.existsSync(out) ? nodeFs.readdirSync(out) : []).toEqual([]);
    },
  );

  it('a weight file changed between its verification and its streaming is INTEGRITY; nothing is registered', async () => {
    const dir = join(root, 'changing');
    await writeModelDirForTesting(dir, { layers: LAYERS, seed: 4 });
    const weights = join(dir, 'big.weights.bin');
    let opens = 0;
    const p = nodeFs.promises;
    const fs = {
      promises: {
        ...p,
        open: async (path: string, ...rest: unknown[]) => {
          if (path === weights && ++opens === 2) {
            // after core verified it, before the registry streams it: another process rewrites it
            const bytes = await readFile(weights);
            bytes[123] = (bytes[123] ?? 0) ^ 0xff;
            await writeFile(weights, bytes);
          }
          return (p.open as (...a: unknown[]) => Promise<unknown>)(path, ...rest);
        },
      },
    } as unknown as RegistryFs;
    const repo = join(root, 'changing-repo');
    const reg = await openRegistry({ dir: repo, bare: true, fs });
    expect(await errorOf(reg.register('big', dir))).toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(/big\.weights\.bin changed while it was being registered/),
      data: { reason: 'sha256' },
    });
    expect(opens).toBe(2);
    expect(await reg.versions('big')).toEqual([]);
    await fsckStrict(repo);
  });
});
