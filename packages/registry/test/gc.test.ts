// The registry beside git's own maintenance: `git gc` packs objects and refs.
import { execFileSync, spawn } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry, type RegistryFs } from '../src/index';
import {
  assignStages,
  fsckStrict,
  gitCli,
  registerThree,
  tempDir,
  writeModelDirs,
  type ModelDirs,
} from './helpers';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

describe('git gc', () => {
  it('keeps working after `git gc` packs its objects and refs (no duplicate objects written)', async () => {
    const repo = join(root, 'gc');
    await gitCli(root, 'init', '-q', '-b', 'main', repo);
    const reg = await openRegistry({ dir: repo });
    await registerThree(reg, dirs);
    await assignStages(reg);
    await gitCli(repo, 'gc', '-q');
    const looseCount = async (): Promise<number> =>
      Number(/^count: (\d+)$/m.exec(await gitCli(repo, 'count-objects', '-v'))?.[1]);
    const loose0 = await looseCount(); // unreachable objects (deleted tags) would stay loose
    expect(loose0).toBeLessThanOrEqual(2);
    expect(await readFile(join(repo, '.git', 'packed-refs'), 'utf8')).toMatch(
      /refs\/tags\/cnn@v1\.0\.0/,
    );
    const again = await openRegistry({ dir: repo });
    const before = (await again.versions('cnn')).length;
    const v = await again.register('cnn', dirs.base);
    expect(v.version).toBe(before + 1);
    // only the new record, trees, commit and tag are loose: the weights were already packed
    expect((await looseCount()) - loose0).toBeLessThanOrEqual(8);
    // the packed blobs stream out of the pack, byte-identical
    await again.checkout('cnn@v1', join(root, 'after-gc'));
    for (const f of ['conv2d.weights.bin', 'dense.weights.bin', 'model.json', 'mlship.json'])
      expect(
        Buffer.compare(
          await readFile(join(root, 'after-gc', f)),
          await readFile(join(dirs.base, f)),
        ),
      ).toBe(0);
    expect((await again.resolve('cnn#production')).version).toBe(2);
    await fsckStrict(repo);
  });
});

/**
 * node:fs, with a hook run once at a chosen moment of the registry's file access: there the real
 * `git` does what `git gc` does on its own (pack the refs, prune empty object directories). The
 * hook fires only once armed, so the moment falls inside the operation under test (not in
 * openRegistry, which reads the same files).
 */
function fsWithHook(
  when: (op: 'readFile' | 'readdir' | 'writeFile', path: string) => boolean,
  hook: (path: string) => void,
): { fs: RegistryFs; fired: () => boolean; arm: () => void } {
  let fired = false;
  let armed = false;
  const p = nodeFs.promises;
  const wrap =
    (op: 'readFile' | 'readdir' | 'writeFile', after: boolean) =>
    async (path: string, ...rest: unknown[]): Promise<unknown> => {
      const fire = armed && !fired && when(op, String(path));
      if (fire && !after) {
        fired = true;
        hook(String(path));
      }
      try {
        return await (p[op] as (...a: unknown[]) => Promise<unknown>)(path, ...rest);
      } finally {
        if (fire && after) {
          fired = true;
          hook(String(path));
        }
      }
    };
  return {
    fs: {
      promises: {
        ...p,
        readFile: wrap('readFile', true),
        readdir: wrap('readdir', true),
        writeFile: wrap('writeFile', false),
      },
    } as unknown as RegistryFs,
    fired: () => fired,
    arm: () => (armed = true),
  };
}

describe('git gc and git pack-refs beside a registration', () => {
  it.each([
    ['without the index beside the refs (every tag is scanned)', false],
    ['with the index beside the refs', true],
  ] as const)(
    '`git pack-refs --all --prune` after each read of a ref or packed-refs during a registration, %s: every one succeeds (no false REF_CONFLICT, no lost tag)',
    async (what, keepIndex) => {
      const repo = join(root, `pack-refs-${keepIndex ? 'index' : 'scan'}`);
      const writer = await openRegistry({ dir: repo, bare: true });
      await writer.register('cnn', dirs.base, { stages: ['production'] });
      const expected = ['cnn#production#1', 'cnn@v1.0.0'];
      const isRefRead = (op: string, path: string): boolean =>
        op !== 'writeFile' &&
        (path === join(repo, 'packed-refs') ||
          path === join(repo, 'refs') ||
          path.startsWith(join(repo, 'refs/')));
      // the k-th read of a ref (loose or packed) or of a refs directory, for k = 1, 2, ... until
      // a registration makes fewer reads: there the real `git pack-refs` moves every loose ref
      // into packed-refs and deletes the loose files, as `git gc` does on its own
      let k = 1;
      for (; ; k++) {
        if (!keepIndex) nodeFs.rmSync(join(repo, 'mlship-index'), { recursive: true, force: true });
        let reads = 0;
        const { fs, fired, arm } = fsWithHook(
          (op, path) => isRefRead(op, path) && ++reads === k,
          () => execFileSync('git', ['pack-refs', '--all', '--prune'], { cwd: repo }),
        );
        const reg = await openRegistry({ dir: repo, fs });
        arm();
        const v = await reg.register('cnn', k % 2 === 1 ? dirs.frozen : dirs.scratch, {
          stages: ['staging'],
        });
        expect(v.version).toBe(k + 1);
        expected.push(`cnn#staging#${k + 1}`, `cnn@v${k + 1}.0.0`);
        if (!fired()) break;
      }
      expect(k).toBeGreaterThan(3);
      expect((await gitCli(repo, 'tag', '-l')).trim().split('\n').sort()).toEqual(expected.sort());
      expect((await (await openRegistry({ dir: repo })).resolve('cnn#staging')).version).toBe(
        k + 1,
      );
      await fsckStrict(repo);
      void what;
    },
  );

  it('`git prune` removing an empty object directory between its creation and the write: retried', async () => {
    const repo = join(root, 'prune-fanout');
    await openRegistry({ dir: repo, bare: true });
    const { fs, fired, arm } = fsWithHook(
      (o, path) => o === 'writeFile' && /\/objects\/[0-9a-f]{2}\/tmp_obj_/.test(path),
      (path) => {
        const dir = path.slice(0, path.lastIndexOf('/'));
        if (nodeFs.readdirSync(dir).length === 0) nodeFs.rmdirSync(dir); // what prune does
      },
    );
    const reg = await openRegistry({ dir: repo, fs });
    arm();
    expect((await reg.register('cnn', dirs.base)).version).toBe(1);
    expect(fired()).toBe(true);
    await fsckStrict(repo);
  });

  it('registrations and assignments stay correct while real `git gc` and `git pack-refs` loop beside them', async () => {
    const repo = join(root, 'gc-loop');
    await gitCli(root, 'init', '-q', '--bare', repo);
    const loop = spawn(
      'sh',
      // plain gc, as git runs it by itself (`--prune=now` is unsafe beside any writer, git's own too)
      ['-c', 'while true; do git gc -q; git pack-refs --all --prune; done'],
      { cwd: repo, stdio: 'ignore' },
    );
    try {
      const reg = await openRegistry({ dir: repo });
      const models = [dirs.base, dirs.frozen, dirs.scratch];
      for (let i = 0; i < 12; i++) {
        const v = await reg.register('cnn', models[i % 3]!, {
          stages: i % 4 === 3 ? ['staging'] : [],
        });
        expect(v.version).toBe(i + 1);
        if (i % 3 === 2) await reg.assign(v.tag, 'production');
      }
    } finally {
      loop.kill('SIGKILL');
    }
    const reg = await openRegistry({ dir: repo });
    expect((await reg.versions('cnn')).map((v) => v.version)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    expect((await reg.resolve('cnn#production')).version).toBe(12);
    expect((await reg.stageHistory('cnn')).map((e) => e.counter)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await reg.checkout('cnn@latest', join(root, 'gc-loop-out'));
    await fsckStrict(repo);
  });
});
