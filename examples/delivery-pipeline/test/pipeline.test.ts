import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The README's main job with a reduced budget (--budget ci: 3,000 + 3,000 MNIST images, one epoch
// each), run as a user runs it, then every stage checked from what it left on disk: the git
// registry through the `git` CLI, the image through `umoci unpack` (the strict OCI validator,
// installed by .ci/run).
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function runPipeline(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const git = (dir: string, ...args: string[]): string =>
  execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();

interface Summary {
  out: string;
  versions: { v1: { tag: string; commit: string }; v2: { tag: string; commit: string } };
  accuracy: { v1Test: number; v1NewHoldout: number; v2NewHoldout: number; servedSample: number };
  drift: { confidencePsi: number };
  gate: { margin: number; passed: boolean };
  hotSwap: {
    requests: number;
    failed: number;
    byVersion: Record<string, number>;
    errors: string[];
  };
  image: { digest: string; layout: string; dockerfile: string; manifests: string };
  stages: { name: string; seconds: number }[];
}

describe('examples/delivery-pipeline --budget ci', () => {
  let tmp: string;
  let run: { code: number | null; stdout: string; stderr: string };
  let summary: Summary;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'mlship-delivery-test-'));
    run = await runPipeline(['--budget', 'ci', '--out', path.join(tmp, 'run'), '--json']);
    if (run.code !== 0) throw new Error(`pipeline exited ${run.code}:\n${run.stderr}`);
    summary = JSON.parse(run.stdout) as Summary;
  }, 900_000);
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it('runs the six stages into the one folder it prints', async () => {
    const out = path.join(tmp, 'run');
    expect(summary.out).toBe(out);
    expect(run.stderr).toContain(`mlship delivery pipeline -> ${out}`);
    expect(summary.stages).toHaveLength(6);
    expect(summary.stages.every((s) => s.seconds > 0)).toBe(true);
    for (const p of [summary.image.layout, summary.image.dockerfile, summary.image.manifests])
      expect(p.startsWith(out)).toBe(true);
    expect(JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8'))).toEqual(summary);
  });

  it('stages 1 and 5: two versions with lineage in the git registry, read back with the git CLI', () => {
    const reg = path.join(summary.out, 'registry');
    expect(git(reg, 'tag', '--list', 'cnn@*').split('\n')).toEqual(['cnn@v1.0.0', 'cnn@v2.0.0']);
    expect(git(reg, 'rev-list', '-n', '1', 'cnn@v1.0.0')).toBe(summary.versions.v1.commit);
    expect(git(reg, 'rev-list', '-n', '1', 'cnn@v2.0.0')).toBe(summary.versions.v2.commit);
    expect(git(reg, 'log', '--format=%s', 'mlship').split('\n')).toEqual([
      'Register cnn@v2.0.0',
      'Register cnn@v1.0.0',
    ]);
    expect(
      git(reg, 'log', '-1', '--format=%(trailers:key=Mlship-Parent,valueonly)', 'cnn@v2.0.0'),
    ).toBe('cnn@v1.0.0');
    const record = JSON.parse(git(reg, 'show', 'cnn@v2.0.0:.mlship/cnn.json')) as {
      parent: string;
      strategy: string;
      datasets: Record<string, { fingerprint: string }>;
    };
    expect(record.parent).toBe('cnn@v1.0.0');
    expect(record.strategy).toBe('fineTune');
    expect(Object.keys(record.datasets).length).toBeGreaterThan(0);
    for (const d of Object.values(record.datasets))
      expect(d.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('stage 5: the production stage moved from v1 to v2', () => {
    const reg = path.join(summary.out, 'registry');
    const byCounter = git(reg, 'tag', '--list', 'cnn#production#*')
      .split('\n')
      .sort((a, b) => Number(a.split('#')[2]) - Number(b.split('#')[2]));
    expect(byCounter).toHaveLength(2);
    expect(git(reg, 'rev-list', '-n', '1', byCounter[0]!)).toBe(summary.versions.v1.commit);
    expect(git(reg, 'rev-list', '-n', '1', byCounter[1]!)).toBe(summary.versions.v2.commit);
  });

  it('stages 2 to 4: served predictions, drift measured with and without labels, the gate passed', () => {
    expect(summary.accuracy.servedSample).toBeGreaterThan(0.5);
    expect(summary.accuracy.v1NewHoldout).toBeLessThan(summary.accuracy.v1Test - 0.1);
    expect(summary.drift.confidencePsi).toBeGreaterThan(0.25);
    expect(summary.gate.passed).toBe(true);
    expect(summary.accuracy.v2NewHoldout).toBeGreaterThanOrEqual(
      summary.accuracy.v1NewHoldout + summary.gate.margin,
    );
  });

  it('stage 5: the server hot-swapped under continuing requests, none failed', () => {
    expect(summary.hotSwap.errors).toEqual([]);
    expect(summary.hotSwap.failed).toBe(0);
    expect(summary.hotSwap.byVersion['1']).toBeGreaterThan(0);
    expect(summary.hotSwap.byVersion['2']).toBeGreaterThan(0);
  });

  it('stage 6: an OCI layout that umoci unpacks with model v2 inside, a Dockerfile, Kubernetes manifests', async () => {
    const bundle = path.join(tmp, 'bundle');
    execFileSync(
      'umoci',
      ['unpack', '--rootless', '--image', `${summary.image.layout}:v2`, bundle],
      {
        stdio: 'pipe',
      },
    );
    const meta = JSON.parse(
      await readFile(path.join(bundle, 'rootfs', 'models', 'cnn', 'mlship.json'), 'utf8'),
    ) as { name: string; strategy: unknown; parent: unknown };
    expect(meta.name).toBe('cnn');
    expect(JSON.stringify(meta.strategy)).toContain('fineTune');
    expect(JSON.stringify(meta.parent)).toContain('cnn@v1.0.0');
    const config = JSON.parse(await readFile(path.join(bundle, 'config.json'), 'utf8')) as {
      process: { user: { uid: number } };
    };
    expect(config.process.user.uid).not.toBe(0);
    expect(await readFile(summary.image.dockerfile, 'utf8')).toMatch(/^HEALTHCHECK /m);
    const yaml = await readFile(summary.image.manifests, 'utf8');
    expect(yaml).toMatch(/kind: Deployment/);
    expect(yaml).toMatch(/readinessProbe:/);
    expect(yaml).toContain(summary.image.digest);
  });
});

describe('examples/delivery-pipeline quality gate', () => {
  it('stops with exit code 3 and says why when the candidate does not beat production by the margin', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'mlship-delivery-gate-'));
    try {
      const r = await runPipeline(['--budget', 'ci', '--out', tmp, '--margin', '1']);
      expect(r.stderr).toMatch(
        /quality gate: the candidate's \d+\.\d\d % on the new holdout does not beat production's \d+\.\d\d % by the required margin 1/,
      );
      expect(r.code).toBe(3);
      // Production did not move, and no second version was registered.
      expect(git(path.join(tmp, 'registry'), 'tag', '--list', 'cnn@*')).toBe('cnn@v1.0.0');
      expect(git(path.join(tmp, 'registry'), 'tag', '--list', 'cnn#production#*')).toBe(
        'cnn#production#1',
      );
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 900_000);
});
