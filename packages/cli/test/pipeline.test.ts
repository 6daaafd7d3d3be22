import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mlship, tempDir } from './helpers';

// `mlship pipeline run` on a tiny budget (real MNIST bytes): the first run trains a base into the
// empty stage, adapts it to shifted data and promotes the candidate; a second run with an
// impossible margin stops at the gate with exit code 3 and registers nothing.
const shift = {
  kind: 'compose',
  shifts: [
    { kind: 'rotate', degrees: [25, 45] },
    { kind: 'noise', sigma: 0.2 },
  ],
};

describe('mlship pipeline run', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await tempDir('pipeline');
    await writeFile(
      path.join(tmp.dir, 'pipeline.json'),
      JSON.stringify({
        registry: 'reg',
        base: { data: 'mnist:train[0:800]', epochs: 1 },
        data: { source: 'mnist', split: 'train', start: 10000, end: 10800, shift },
        holdout: { source: 'mnist', split: 'train', start: 10800, end: 11100, shift },
        reference: 'mnist:test[0:300]',
        epochs: 1,
        workers: 0,
        work: 'work',
      }),
    );
  });
  afterAll(() => tmp.remove());

  it('trains a base into the empty stage, passes the gate, registers and promotes the candidate', async () => {
    const r = await mlship(['pipeline', 'run', '--config', 'pipeline.json', '--json'], {
      cwd: tmp.dir,
    });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      trainedBase: string;
      production: { tag: string; accuracy: number };
      drift: { confidencePsi: number };
      candidate: { accuracy: number };
      gate: { passed: boolean };
      registered: { tag: string; commit: string };
    };
    expect(out.trainedBase).toBe('cnn@v1.0.0');
    expect(out.production.tag).toBe('cnn@v1.0.0');
    expect(out.drift.confidencePsi).toBeGreaterThan(0);
    expect(out.gate.passed).toBe(true);
    expect(out.candidate.accuracy).toBeGreaterThan(out.production.accuracy);
    expect(out.registered.tag).toBe('cnn@v2.0.0');
    const reg = path.join(tmp.dir, 'reg');
    const git = (...a: string[]): string =>
      execFileSync('git', ['-C', reg, ...a], { encoding: 'utf8' }).trim();
    expect(git('log', '-1', '--format=%(trailers:key=Mlship-Parent,valueonly)', 'cnn@v2.0.0')).toBe(
      'cnn@v1.0.0',
    );
    const latestStage = git('tag', '--list', 'cnn#production#*')
      .split('\n')
      .sort((a, b) => Number(a.split('#')[2]) - Number(b.split('#')[2]))
      .pop()!;
    expect(git('rev-list', '-n', '1', latestStage)).toBe(out.registered.commit);
  }, 600_000);

  it('stops at the quality gate with exit code 3 and registers nothing', async () => {
    const r = await mlship(
      ['pipeline', 'run', '--config', 'pipeline.json', '--margin', '1', '--json'],
      { cwd: tmp.dir },
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /GATE_FAILED: quality gate: the candidate's .* does not beat cnn@v2\.0\.0's .* by 1; nothing was registered/,
    );
    const err = (
      JSON.parse(r.stdout) as { error: { code: string; data: { gate: { passed: boolean } } } }
    ).error;
    expect(err.code).toBe('GATE_FAILED');
    expect(err.data.gate.passed).toBe(false);
    const tags = execFileSync('git', ['-C', path.join(tmp.dir, 'reg'), 'tag', '--list', 'cnn@*'], {
      encoding: 'utf8',
    });
    expect(tags.trim().split('\n')).toEqual(['cnn@v1.0.0', 'cnn@v2.0.0']);
  }, 600_000);
});
