import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index';
import { writeModelDirForTesting } from '../src/testing';
import { fsckStrict, gitCli, spawnTs, tempDir } from './helpers';

const CHILD = join(import.meta.dirname, 'fixtures', 'register-loop.mts');

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('mlship-concurrency-'));
  await writeModelDirForTesting(join(root, 'a'), { seed: 1 });
  await writeModelDirForTesting(join(root, 'b'), { seed: 2 });
});
afterAll(async () => cleanup());

function run(repo: string, dir: string): Promise<number[]> {
  const child = spawnTs(CHILD, [repo, 'cnn', '10', dir]);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`child exited ${code}: ${err}`));
      else resolve([...out.matchAll(/^OK (\d+) /gm)].map((m) => Number(m[1])));
    }),
  );
}

describe('concurrency', () => {
  it('two processes x 10 registrations of one model -> 20 distinct versions', async () => {
    const repo = join(root, 'repo');
    await gitCli(root, 'init', '-q', repo);
    const [a, b] = await Promise.all([run(repo, join(root, 'a')), run(repo, join(root, 'b'))]);
    expect(a).toHaveLength(10);
    expect(b).toHaveLength(10);
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    const tags = (await gitCli(repo, 'tag', '-l', 'cnn@*')).trim().split('\n');
    expect(tags).toHaveLength(20);
    expect((await gitCli(repo, 'log', '--format=%s', 'mlship')).trim().split('\n')).toHaveLength(
      20,
    );
    // stage counters were allocated without collisions too
    const stageTags = (await gitCli(repo, 'tag', '-l', 'cnn#*')).trim().split('\n');
    const counters = stageTags.map((t) => Number(t.split('#')[2]));
    expect(new Set(counters).size).toBe(stageTags.length);
    expect(stageTags).toHaveLength(6);
    await fsckStrict(repo);
    const reg = await openRegistry({ dir: repo, create: false });
    expect((await reg.resolve('cnn@latest')).version).toBe(20);
  }, 120_000);
});
