// The index the registry keeps beside the refs (<gitdir>/mlship-index/): resolving does not read
// every tag, and whatever git does to the refs behind the registry's back is noticed.
import * as nodeFs from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry, type RegistryFs } from '../src/index';
import { writeModelDirForTesting } from '../src/testing';
import { fsckStrict, gitCli, tempDir } from './helpers';

let root: string;
let cleanup: () => Promise<void>;
let small: string;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('mlship-index-'));
  small = join(root, 'small');
  await writeModelDirForTesting(small, { layers: { dense: 10 } });
});
afterAll(async () => cleanup());

/** node:fs counting the files read and the directories listed under `repo`. */
function countingFs(repo: string): { fs: RegistryFs; reads: () => number; reset: () => void } {
  let reads = 0;
  const p = nodeFs.promises;
  const counted =
    (fn: (...a: unknown[]) => Promise<unknown>) =>
    (path: string, ...rest: unknown[]): Promise<unknown> => {
      if (String(path).startsWith(repo)) reads += 1;
      return fn.call(p, path, ...rest);
    };
  return {
    fs: {
      promises: {
        ...p,
        readFile: counted(p.readFile as never),
        readdir: counted(p.readdir as never),
      },
    } as unknown as RegistryFs,
    reads: () => reads,
    reset: () => (reads = 0),
  };
}

describe('resolving and registering with the index', () => {
  it('reads the same few files at 10 and at 40 versions (it does not scan every tag)', async () => {
    const repo = join(root, 'growth');
    const writer = await openRegistry({ dir: repo, bare: true });
    const counts: number[][] = [];
    for (const n of [10, 40]) {
      while ((await writer.versions('cnn')).length < n)
        await writer.register('cnn', small, { stages: ['production'] });
      const c = countingFs(repo);
      const reg = await openRegistry({ dir: repo, fs: c.fs }); // a new process, in effect
      const row: number[] = [];
      for (const ref of ['cnn@latest', 'cnn#production', 'cnn@v7']) {
        c.reset();
        expect((await reg.resolve(ref)).version).toBe(ref === 'cnn@v7' ? 7 : n);
        row.push(c.reads());
      }
      // and a registration with a stage, in another new process
      const c2 = countingFs(repo);
      const reg2 = await openRegistry({ dir: repo, fs: c2.fs });
      c2.reset();
      expect((await reg2.register('cnn', small, { stages: ['staging'] })).version).toBe(n + 1);
      row.push(c2.reads());
      counts.push(row);
    }
    expect(counts[1]).toEqual(counts[0]);
    expect(Math.max(...counts[0]!.slice(0, 3))).toBeLessThan(10);
  });
});

describe('the index follows what git does to the refs', () => {
  it('notices tags deleted, added, re-pointed and packed by the git CLI, and a missing or damaged index', async () => {
    const repo = join(root, 'external');
    const reg = await openRegistry({ dir: repo, bare: true });
    const v1 = await reg.register('cnn', small, { stages: ['production'] });
    await reg.register('cnn', small);
    await reg.register('cnn', small, { stages: ['production'] });
    expect((await reg.resolve('cnn@latest')).version).toBe(3);
    expect((await reg.resolve('cnn#production')).version).toBe(3);

    await gitCli(repo, 'tag', '-d', 'cnn@v3.0.0');
    expect((await reg.resolve('cnn@latest')).version).toBe(2);
    await gitCli(repo, 'tag', 'cnn#production#9', v1.commit);
    expect((await reg.resolve('cnn#production')).version).toBe(1);
    await gitCli(repo, 'pack-refs', '--all', '--prune');
    expect((await reg.resolve('cnn#production')).version).toBe(1);
    expect((await reg.resolve('cnn@latest')).version).toBe(2);
    // re-pointed in place: version 2's tag now names version 1's commit
    await gitCli(repo, 'tag', '-f', 'cnn@v2.0.0', v1.commit);
    expect((await reg.resolve('cnn@v2')).commit).toBe(v1.commit);

    nodeFs.rmSync(join(repo, 'mlship-index'), { recursive: true, force: true });
    expect((await reg.resolve('cnn@latest')).version).toBe(2);
    await writeFile(join(repo, 'mlship-index', 'heads.json'), '{ torn');
    await writeFile(join(repo, 'mlship-index', 'tags.json'), 'not json');
    const again = await openRegistry({ dir: repo });
    expect((await again.resolve('cnn#production')).version).toBe(1);
    expect((await again.register('cnn', small)).version).toBe(4);
    expect((await again.resolve('cnn@latest')).version).toBe(4);
    await fsckStrict(repo);
  });
});
