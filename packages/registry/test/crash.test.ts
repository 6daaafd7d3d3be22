import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../src/index';
import { writeModelDirForTesting } from '../src/testing';
import { fsckStrict, gitCli, spawnTs, tempDir } from './helpers';

const CHILD = join(import.meta.dirname, 'fixtures', 'register-loop.mts');
const KILLS = 22;

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('mlship-crash-'));
  await writeModelDirForTesting(join(root, 'a'), { seed: 1 });
  await writeModelDirForTesting(join(root, 'b'), { seed: 1, layerSeeds: { dense: 2, dense_1: 2 } });
  await writeModelDirForTesting(join(root, 'c'), { seed: 5 });
});
afterAll(async () => cleanup());

// A seeded schedule of kill delays, so a failure can be replayed.
function delays(seed: number, n: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return 5 + (s % 400);
  });
}

describe('crash safety', () => {
  it(`SIGKILL at ${KILLS} random points of register leaves old state or a complete version; fsck --strict stays clean`, async () => {
    const repo = join(root, 'repo');
    await gitCli(root, 'init', '-q', '--bare', repo);
    const reported = new Map<number, string>();
    let kills = 0;
    let stagesChecked = 0;
    for (const delay of delays(42, KILLS)) {
      const child = spawnTs(CHILD, [
        repo,
        'cnn',
        '1000',
        join(root, 'a'),
        join(root, 'b'),
        join(root, 'c'),
      ]);
      let out = '';
      let killed = false;
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (!killed && out.includes('READY\n')) {
            killed = true;
            setTimeout(() => child.kill('SIGKILL'), delay);
          }
        });
        let err = '';
        child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', (code, signal) => {
          if (signal === 'SIGKILL') resolve();
          else reject(new Error(`child exited ${code} before the kill: ${err}`));
        });
      });
      kills += 1;
      for (const m of out.matchAll(/^OK (\d+) ([0-9a-f]{40})$/gm))
        reported.set(Number(m[1]), m[2]!);

      const reg = await openRegistry({ dir: repo, create: false });
      expect(await fsckStrict(repo)).not.toMatch(/error|corrupt|missing|broken/i);
      const listed = await reg.versions('cnn');
      const versions = listed.map((v) => v.version);
      // no holes and no duplicates: 1..N
      expect(versions).toEqual(versions.map((_, i) => i + 1));
      const commits = new Map(listed.map((v) => [v.version, v.commit]));
      for (const [version, commit] of reported) expect(commits.get(version)).toBe(commit);
      // every registration that asked for a stage has its stage tag (repair completes stages too)
      const stageTags = new Set((await gitCli(repo, 'tag', '-l', 'cnn#*')).trim().split('\n'));
      const log = listed.length ? await gitCli(repo, 'log', '--format=%B', 'mlship') : '';
      const asked = [...log.matchAll(/^Mlship-Stage: (\S+)#(\d+)$/gm)].map(
        (m) => `cnn#${m[1]}#${m[2]}`,
      );
      for (const t of asked) expect(stageTags).toContain(t);
      stagesChecked += asked.length;
    }
    expect(kills).toBe(KILLS);
    expect(stagesChecked).toBeGreaterThan(0);
    expect(reported.size).toBeGreaterThan(0);

    // every version, reported or completed by repair, checks out verified
    const reg = await openRegistry({ dir: repo, create: false });
    const all = await reg.versions('cnn');
    for (const v of all) await reg.checkout(v.tag, join(root, 'out', String(v.version)));
    expect((await gitCli(repo, 'log', '--format=%s', 'mlship')).trim().split('\n')).toHaveLength(
      all.length,
    );
    await fsckStrict(repo);
  }, 180_000);
});
