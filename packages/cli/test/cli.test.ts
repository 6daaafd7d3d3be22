import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeModelDirForTesting } from '@mlship/registry/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/program';
import { mlship, tempDir } from './helpers';

describe.concurrent('--help', () => {
  const groups = [...new Set(COMMANDS.filter((c) => c.path.length > 1).map((c) => c.path[0]!))];

  it('the top level lists every command and the exit codes', async () => {
    const r = await mlship(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(c.path[0]);
    expect(r.stdout).toMatch(/2 usage error/);
    expect(r.stdout).toMatch(/3 quality gate failed/);
  });

  it.each(groups)('%s lists its subcommands with an example', async (group) => {
    const r = await mlship([group, '--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS.filter((x) => x.path[0] === group))
      expect(r.stdout).toContain(c.path[1]);
    expect(r.stdout).toMatch(/Example:\n {2}\$ mlship /);
  });

  it.each(COMMANDS.map((c) => [c.path.join(' '), c] as const))(
    '%s shows its usage, settings and an example',
    async (_name, c) => {
      const r = await mlship([...c.path, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: mlship ${c.path.join(' ')}`);
      for (const f of c.fields)
        if (f.flag !== undefined) expect(r.stdout).toContain(f.flag.split(' ')[0]);
      expect(r.stdout).toMatch(/--config <file>/);
      expect(r.stdout).toMatch(/--json/);
      expect(r.stdout).toMatch(/Examples?:\n {2}\$ mlship /);
      for (const e of c.examples) expect(e).toContain(`mlship ${c.path.join(' ')}`);
    },
  );
});

describe.concurrent('usage errors exit with code 2 and name the problem', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await tempDir('usage');
    await writeFile(path.join(tmp.dir, 'typo.json'), JSON.stringify({ epoch: 3 }));
    await writeFile(path.join(tmp.dir, 'type.json'), JSON.stringify({ epochs: 'five' }));
    await writeFile(path.join(tmp.dir, 'broken.json'), '{"epochs": 3,');
  });
  afterAll(() => tmp.remove());

  it.each([
    [
      ['train', '--config', 'typo.json', '--out', 'm'],
      /config file typo\.json: unknown field "epoch" \(did you mean "epochs"\?\)/,
    ],
    [
      ['train', '--config', 'type.json', '--out', 'm'],
      /config file type\.json: field "epochs": expected a positive integer, got "five"/,
    ],
    [
      ['train', '--config', 'broken.json', '--out', 'm'],
      /config file broken\.json: not valid JSON/,
    ],
    [
      ['train', '--config', 'missing.json', '--out', 'm'],
      /config file missing\.json: cannot be read/,
    ],
    [
      ['train', '--epochs', 'five', '--out', 'm'],
      /--epochs: expected a positive integer, got "five"/,
    ],
    [['train', '--optimizer', 'adamw', '--out', 'm'], /--optimizer: expected one of adam, sgd/],
    [
      ['train', '--data', 'mnist:validation', '--out', 'm'],
      /--data: dataset "mnist:validation": expected/,
    ],
    [['train'], /missing setting "out": pass --out/],
    [['train', '--bogus'], /unknown option '--bogus'/],
    [['registry', 'diff', 'cnn@v1'], /missing required argument 'to'/],
    [['evaluate', 'a', 'b'], /too many arguments/],
    [['nosuchcommand'], /unknown command 'nosuchcommand'/],
  ])('mlship %j', async (args, message) => {
    const r = await mlship(args, { cwd: tmp.dir });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });

  it('a bad value in the config file is an error even when a flag overrides it', async () => {
    // The file is checked on its own: a bad value in it is an error even when a flag would replace it.
    const r = await mlship(['train', '--config', 'type.json', '--epochs', '1', '--out', 'm'], {
      cwd: tmp.dir,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/field "epochs"/);
  });
});

describe('registry commands with --json', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await tempDir('registry');
    await writeModelDirForTesting(path.join(tmp.dir, 'v1'), {
      seed: 1,
      metrics: { accuracy: 0.9 },
    });
    await writeModelDirForTesting(path.join(tmp.dir, 'v2'), {
      seed: 1,
      layerSeeds: { dense: 7, dense_1: 7 },
      metrics: { accuracy: 0.95 },
    });
  });
  afterAll(() => tmp.remove());

  const json = async (args: string[]): Promise<Record<string, unknown>> => {
    const where = args[1] === 'init' ? [] : ['--registry', 'reg'];
    const r = await mlship([...args, ...where, '--json'], { cwd: tmp.dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  it('init, register, assign, list, show, diff, lineage, checkout, unassign: each prints one JSON document', async () => {
    expect(await json(['registry', 'init', 'reg'])).toMatchObject({ models: 0 });
    expect(
      await json([
        'registry',
        'register',
        'cnn',
        'v1',
        '--stage',
        'production',
        '--message',
        'base',
      ]),
    ).toMatchObject({
      name: 'cnn',
      version: 1,
      tag: 'cnn@v1.0.0',
      stages: ['production'],
    });
    expect(
      await json([
        'registry',
        'register',
        'cnn',
        'v2',
        '--parent',
        'cnn@v1',
        '--strategy',
        'freeze',
      ]),
    ).toMatchObject({
      version: 2,
    });
    expect(await json(['registry', 'assign', 'cnn@v2', 'production'])).toMatchObject({
      stage: 'production',
      version: 2,
      action: 'assign',
    });
    expect(await json(['registry', 'list'])).toEqual({
      models: [{ name: 'cnn', latest: 2, versions: 2, stages: { production: 2 } }],
    });
    const versions = (await json(['registry', 'list', 'cnn'])).versions as {
      version: number;
      stages: string[];
      metrics: object;
    }[];
    expect(versions.map((v) => [v.version, v.stages, v.metrics])).toEqual([
      [1, [], { accuracy: 0.9 }],
      [2, ['production'], { accuracy: 0.95 }],
    ]);
    const shown = await json(['registry', 'show', 'cnn#production']);
    expect(shown).toMatchObject({
      version: 2,
      record: { parent: 'cnn@v1.0.0', strategy: 'freeze' },
    });
    const diff = (await json(['registry', 'diff', 'cnn@v1', 'cnn@v2'])) as {
      metrics: { name: string; change: number }[];
      files: { path: string; status: string }[];
    };
    expect(diff.metrics.find((m) => m.name === 'accuracy')?.change).toBeCloseTo(0.05);
    // Only the retrained head changed: the conv layers' files are byte-identical across versions.
    expect(
      diff.files
        .filter((f) => f.status === 'modified')
        .map((f) => f.path)
        .sort(),
    ).toEqual(expect.arrayContaining([expect.stringMatching(/^dense/)]));
    expect(
      diff.files.filter((f) => f.path.startsWith('conv2d')).every((f) => f.status === 'unchanged'),
    ).toBe(true);
    const lineage = (await json(['registry', 'lineage', 'cnn@latest'])).lineage as {
      tag: string;
      parent: string | null;
    }[];
    expect(lineage.map((l) => [l.tag, l.parent])).toEqual([
      ['cnn@v2.0.0', 'cnn@v1.0.0'],
      ['cnn@v1.0.0', null],
    ]);
    expect(await json(['registry', 'checkout', 'cnn#production', 'served'])).toMatchObject({
      version: 2,
      dir: path.join(tmp.dir, 'served'),
    });
    expect(await json(['registry', 'unassign', 'cnn', 'production'])).toMatchObject({
      action: 'unassign',
      version: 2,
    });
    // What the registry wrote is plain git: the GTO tags are there for the git CLI.
    const tags = execFileSync('git', ['-C', path.join(tmp.dir, 'reg'), 'tag', '--list'], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
    expect(tags).toEqual(
      expect.arrayContaining([
        'cnn@v1.0.0',
        'cnn@v2.0.0',
        'cnn#production#1',
        'cnn#production#2',
        'cnn#production!#3',
      ]),
    );
  });

  it('diff --format markdown prints the pull-request tables', async () => {
    const r = await mlship(
      ['registry', 'diff', 'cnn@v1', 'cnn@v2', '--registry', 'reg', '--format', 'markdown'],
      { cwd: tmp.dir },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^### cnn@v1\.0\.0 → cnn@v2\.0\.0/m);
    expect(r.stdout).toMatch(/\| accuracy \| 0\.9 \| 0\.95 \|/);
  });

  it('a runtime error exits 1 and, with --json, is one JSON document with its code', async () => {
    const r = await mlship(['registry', 'show', 'cnn@v9', '--registry', 'reg', '--json'], {
      cwd: tmp.dir,
    });
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code).toBe(
      'VERSION_NOT_FOUND',
    );
    expect(r.stderr).toMatch(/mlship: error: VERSION_NOT_FOUND/);
  });

  it('a missing registry is refused, not created', async () => {
    const r = await mlship(['registry', 'list', '--registry', 'nowhere'], { cwd: tmp.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nowhere is not a git repository: run `mlship registry init/);
  });
});

describe('train, evaluate and predict on real MNIST bytes', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await tempDir('train');
  });
  afterAll(() => tmp.remove());

  it('train --json reports the saved directory and metrics; evaluate and predict read it back', async () => {
    await writeFile(
      path.join(tmp.dir, 'train.json'),
      JSON.stringify({
        data: { source: 'mnist', split: 'train', end: 1000 },
        test: 'mnist:test[0:500]',
        epochs: 3,
        workers: 0,
      }),
    );
    // The flag overrides the file's epochs.
    const t = await mlship(
      ['train', '--config', 'train.json', '--epochs', '1', '--out', 'm', '--json'],
      { cwd: tmp.dir },
    );
    expect(t.code).toBe(0);
    const trained = JSON.parse(t.stdout) as {
      dir: string;
      history: unknown[];
      metrics: { accuracy: number };
    };
    expect(trained.dir).toBe(path.join(tmp.dir, 'm'));
    expect(trained.history).toHaveLength(1);
    expect(trained.metrics.accuracy).toBeGreaterThan(0.5);
    expect(t.stderr).toMatch(/backend: wasm/);

    const e = await mlship(['evaluate', 'm', '--data', 'mnist:test[0:500]', '--json'], {
      cwd: tmp.dir,
    });
    expect(e.code).toBe(0);
    const evaluation = JSON.parse(e.stdout) as {
      count: number;
      accuracy: number;
      perClass: unknown[];
    };
    expect(evaluation.count).toBe(500);
    expect(evaluation.accuracy).toBeCloseTo(trained.metrics.accuracy, 6);
    expect(evaluation.perClass).toHaveLength(10);

    const p = await mlship(
      ['predict', 'm', '--data', 'mnist:test[0:5]', '--top-k', '2', '--json', '--quiet'],
      { cwd: tmp.dir },
    );
    expect(p.code).toBe(0);
    expect(p.stderr).toBe('');
    const predictions = (
      JSON.parse(p.stdout) as {
        predictions: { label: string; predicted: string; topK: unknown[] }[];
      }
    ).predictions;
    expect(predictions).toHaveLength(5);
    expect(predictions.map((x) => x.label)).toEqual(['7', '2', '1', '0', '4']); // the first MNIST test labels
    expect(predictions.every((x) => x.topK.length === 2)).toBe(true);
  });
});
