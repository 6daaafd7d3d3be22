import { chmod, mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import * as nodeFs from 'node:fs';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirBytes, fsckStrict, gitCli, gitCommit, tempDir } from '../test/helpers.js';
import {
  MODEL_A_LAYERS,
  formatDiffMarkdown,
  isRegistryError,
  openRegistry,
  writeModelDirForTesting,
  type Registry,
  type RegistryFs,
} from './index.js';

let root: string;
let cleanup: () => Promise<void>;
let base: string; // model A, seed 1
let frozen: string; // conv layers of base, new dense layers
let scratch: string; // every layer new

/** The files of a model A directory written by writeModelDirForTesting, in git's order. */
const MODEL_A_FILES = [
  'conv2d.weights.bin',
  'conv2d_1.weights.bin',
  'dense.weights.bin',
  'dense_1.weights.bin',
  'mlship.json',
  'model.json',
];

async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isRegistryError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a RegistryError, got success');
}

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  base = join(root, 'models', 'base');
  frozen = join(root, 'models', 'frozen');
  scratch = join(root, 'models', 'scratch');
  await writeModelDirForTesting(base, {
    seed: 1,
    metrics: { accuracy: 0.91, loss: 0.3 },
    training: { optimizer: 'adam', learningRate: 0.001, epochs: 3 },
    datasets: { train: { fingerprint: 'sha256:aaaa1111', count: 10000 } },
  });
  await writeModelDirForTesting(frozen, {
    seed: 1,
    layerSeeds: { dense: 2, dense_1: 2 },
    metrics: { accuracy: 0.95, loss: 0.2 },
    training: {
      optimizer: 'adam',
      learningRate: 0.0005,
      epochs: 3,
      frozen: ['conv2d', 'conv2d_1'],
    },
    datasets: { train: { fingerprint: 'sha256:bbbb2222', count: 10000 } },
    strategy: 'freeze',
  });
  await writeModelDirForTesting(scratch, {
    seed: 3,
    metrics: { accuracy: 0.93 },
    strategy: 'scratch',
  });
});

afterAll(async () => cleanup());

describe('register in a working tree', () => {
  let repo: string;
  let reg: Registry;

  beforeAll(async () => {
    repo = join(root, 'wt');
    await mkdir(repo);
    await gitCli(repo, 'init', '-q', '-b', 'main');
    await writeFile(join(repo, 'README.md'), 'user file\n');
    await gitCli(repo, 'add', 'README.md');
    await gitCommit(repo, '-q', '-m', 'user commit');
    await writeFile(join(repo, 'README.md'), 'dirty edit\n');
    reg = await openRegistry({ dir: repo, author: { name: 'Reg Bot', email: 'bot@example.com' } });
  });

  it('numbers versions 1, 2, 3 and writes GTO tags and one commit each that git reads back', async () => {
    const v1 = await reg.register('cnn', base, { message: 'baseline' });
    const v2 = await reg.register('cnn', frozen, {
      parent: 'cnn@v1',
      message: 'freeze conv, retrain head',
    });
    const v3 = await reg.register('cnn', scratch, { parent: 'cnn@v1', strategy: 'scratch' });
    expect([v1.version, v2.version, v3.version]).toEqual([1, 2, 3]);
    expect(v2.tag).toBe('cnn@v2.0.0');

    expect(await gitCli(repo, 'tag', '-l', 'cnn@*')).toBe('cnn@v1.0.0\ncnn@v2.0.0\ncnn@v3.0.0\n');
    expect(await gitCli(repo, 'tag', '-n1', '-l', 'cnn@v2.0.0')).toMatch(
      /^cnn@v2\.0\.0\s+Registering artifact cnn version v2\.0\.0/,
    );
    expect((await gitCli(repo, 'cat-file', '-t', 'cnn@v2.0.0')).trim()).toBe('tag');
    expect((await gitCli(repo, 'rev-parse', 'cnn@v2.0.0^{commit}')).trim()).toBe(v2.commit);
    expect(await gitCli(repo, 'log', '--format=%s|%an <%ae>', 'mlship')).toBe(
      'Register cnn@v3.0.0|Reg Bot <bot@example.com>\nRegister cnn@v2.0.0|Reg Bot <bot@example.com>\nRegister cnn@v1.0.0|Reg Bot <bot@example.com>\n',
    );
    expect(await gitCli(repo, 'log', '-1', '--format=%B', 'cnn@v2.0.0')).toMatch(
      /Mlship-Parent: cnn@v1\.0\.0/,
    );
    // the stored mlship.json is byte-identical to the registered one
    expect(await gitCli(repo, 'show', 'cnn@v2.0.0:models/cnn/mlship.json')).toBe(
      await readFile(join(frozen, 'mlship.json'), 'utf8'),
    );
    const tagBody = await gitCli(repo, 'tag', '-l', '--format=%(contents)', 'cnn@v2.0.0');
    expect(JSON.parse(tagBody.slice(tagBody.indexOf('{')))).toMatchObject({
      name: 'cnn',
      version: 2,
      strategy: 'freeze',
      parent: 'cnn@v1.0.0',
    });
    expect(await gitCli(repo, 'ls-tree', '--name-only', 'mlship', 'models/cnn/')).toBe(
      MODEL_A_FILES.map((f) => `models/cnn/${f}\n`).join(''),
    );
    await fsckStrict(repo);
  });

  it("leaves the user's branch, index and working tree alone", async () => {
    expect((await gitCli(repo, 'log', '--format=%s', 'main')).trim()).toBe('user commit');
    expect((await gitCli(repo, 'symbolic-ref', 'HEAD')).trim()).toBe('refs/heads/main');
    expect(await gitCli(repo, 'status', '--porcelain')).toBe(' M README.md\n');
  });

  it('lists models and versions with metrics, and shows one version with files and parent', async () => {
    expect(await reg.models()).toEqual([{ name: 'cnn', latest: 3, versions: 3, stages: {} }]);
    const versions = await reg.versions('cnn');
    expect(versions.map((v) => [v.version, v.metrics.accuracy, v.message])).toEqual([
      [1, 0.91, 'baseline'],
      [2, 0.95, 'freeze conv, retrain head'],
      [3, 0.93, ''],
    ]);
    const d = await reg.show('cnn@v2');
    expect(d.parent?.tag).toBe('cnn@v1.0.0');
    expect(d.lineage.map((s) => [s.tag, s.strategy])).toEqual([
      ['cnn@v2.0.0', 'freeze'],
      ['cnn@v1.0.0', null],
    ]);
    expect(d.record.params).toMatchObject({ learningRate: 0.0005 });
    expect(d.record.datasets.train?.fingerprint).toBe('sha256:bbbb2222');
    expect(d.files.map((f) => f.path)).toEqual(MODEL_A_FILES);
    expect(d.files.find((f) => f.path === 'dense.weights.bin')?.bytes).toBe(
      MODEL_A_LAYERS.dense! * 4,
    );
    expect(d.metadata).toMatchObject({ format: 'mlship-model/1', strategy: 'freeze' });
  });

  it('assigns, moves and removes stages, keeping every assignment as a tag', async () => {
    const e1 = await reg.assign('cnn@v1', 'production');
    await reg.assign('cnn@v2', 'staging', { message: 'candidate' });
    const e3 = await reg.assign('cnn#staging', 'production', { message: 'promote' });
    expect([e1.tag, e3.tag]).toEqual(['cnn#production#1', 'cnn#production#3']);
    expect((await reg.resolve('cnn#production')).version).toBe(2);
    const un = await reg.unassign('cnn', 'staging');
    expect(un.tag).toBe('cnn#staging!#4');
    expect(Object.keys(await reg.stages('cnn'))).toEqual(['production']);
    expect(
      (await reg.stageHistory('cnn', 'production')).map((e) => [
        e.counter,
        e.action,
        e.version,
        e.message,
      ]),
    ).toEqual([
      [1, 'assign', 1, ''],
      [3, 'assign', 2, 'promote'],
    ]);
    expect(await gitCli(repo, 'tag', '-l', 'cnn#*')).toBe(
      'cnn#production#1\ncnn#production#3\ncnn#staging!#4\ncnn#staging#2\n',
    );
    expect((await gitCli(repo, 'rev-parse', 'cnn#production#3^{commit}')).trim()).toBe(
      (await reg.resolve('cnn@v2')).commit,
    );
    expect(await gitCli(repo, 'tag', '-n1', '-l', 'cnn#staging!#4')).toMatch(
      /Unassigning stage staging from artifact cnn version v2\.0\.0/,
    );
    expect(await errorOf(reg.resolve('cnn#staging'))).toMatchObject({
      code: 'STAGE_NOT_ASSIGNED',
      message: /Stage "staging" of cnn/,
    });
    expect((await reg.models())[0]?.stages).toEqual({ production: 2 });
    await fsckStrict(repo);
  });

  it.each([
    ['cnn@v2', 2],
    ['cnn@v2.0.0', 2],
    ['cnn@2', 2],
    ['cnn@latest', 3],
    ['cnn', 3],
    ['cnn#production', 2],
    ['cnn#production#1', 1],
    ['cnn#staging#2', 2],
  ])('resolves %s to version %i', async (ref, version) => {
    const r = await reg.resolve(ref);
    expect(r.version).toBe(version);
    expect((await gitCli(repo, 'rev-parse', `${r.tag}^{commit}`)).trim()).toBe(r.commit);
  });

  it('walks lineage back to the root with strategy and dataset fingerprints', async () => {
    const steps = await reg.lineage('cnn@v2');
    expect(steps.map((s) => [s.tag, s.strategy, s.datasets.train?.fingerprint, s.parent])).toEqual([
      ['cnn@v2.0.0', 'freeze', 'sha256:bbbb2222', 'cnn@v1.0.0'],
      ['cnn@v1.0.0', null, 'sha256:aaaa1111', null],
    ]);
  });

  it('diffs metrics, params, datasets and layer files, as JSON and as a markdown table', async () => {
    const d = await reg.diff('cnn@v1', 'cnn@v2');
    expect(d.metrics.find((m) => m.name === 'accuracy')).toMatchObject({ from: 0.91, to: 0.95 });
    expect(d.metrics.find((m) => m.name === 'accuracy')?.change).toBeCloseTo(0.04, 10);
    expect(d.params.filter((p) => p.changed).map((p) => p.name)).toEqual([
      'frozen',
      'learningRate',
    ]);
    expect(d.datasets).toEqual([
      {
        role: 'train',
        from: { fingerprint: 'sha256:aaaa1111', count: 10000 },
        to: { fingerprint: 'sha256:bbbb2222', count: 10000 },
        changed: true,
      },
    ]);
    expect(Object.fromEntries(d.files.map((f) => [f.path, f.status]))).toEqual({
      'conv2d.weights.bin': 'unchanged',
      'conv2d_1.weights.bin': 'unchanged',
      'dense.weights.bin': 'modified',
      'dense_1.weights.bin': 'modified',
      'mlship.json': 'modified',
      'model.json': 'unchanged',
    });
    const md = formatDiffMarkdown(d);
    expect(md).toMatch(/^\| Metric \| cnn@v1\.0\.0 \| cnn@v2\.0\.0 \| Change \|$/m);
    expect(md).toMatch(/^\| accuracy \| 0\.91 \| 0\.95 \| \+0\.04 \|$/m);
    expect(md).toMatch(/^\| learningRate \| 0\.001 \| 0\.0005 \|$/m);
    expect(md).toMatch(/^\| dense\.weights\.bin \| modified \| 819712 \| 819712 \|$/m);
    expect(md).toMatch(/^\| \(3 unchanged\) \| unchanged \| \| \|$/m);
    expect(md).not.toMatch(/conv2d\.weights\.bin/);
    expect(formatDiffMarkdown(d, { all: true })).toMatch(
      /^\| conv2d\.weights\.bin \| unchanged \|/m,
    );
  });

  it('checks out a verified copy that equals the registered directory', async () => {
    const dest = join(root, 'out', 'prod');
    const res = await reg.checkout('cnn#production', dest);
    expect(res.version).toBe(2);
    for (const f of ['model.json', 'mlship.json', 'conv2d.weights.bin', 'dense.weights.bin']) {
      expect(Buffer.compare(await readFile(join(dest, f)), await readFile(join(frozen, f)))).toBe(
        0,
      );
    }
    expect(await errorOf(reg.checkout('cnn@v1', dest))).toMatchObject({
      code: 'DEST_EXISTS',
      message: /exists and is not empty/,
    });
    await reg.checkout('cnn@v1', dest, { overwrite: true });
    expect(
      Buffer.compare(
        await readFile(join(dest, 'dense.weights.bin')),
        await readFile(join(base, 'dense.weights.bin')),
      ),
    ).toBe(0);
    expect(nodeFs.readdirSync(join(root, 'out'))).toEqual(['prod']);
  });

  it('deregisters a version GTO-style: latest skips it, its number is not reused', async () => {
    const r = await reg.deregister('cnn@v3', { message: 'bad data' });
    expect(r.deregistrationTag).toBe('cnn@v3.0.0!#5');
    expect((await reg.resolve('cnn@latest')).version).toBe(2);
    expect((await reg.versions('cnn')).map((v) => v.deregistered)).toEqual([false, false, true]);
    expect((await reg.register('cnn', base)).version).toBe(4);
  });

  it('never reuses a version number even when its tag is deleted (the counter lives in the commit tree too)', async () => {
    expect((await reg.register('other', base)).version).toBe(1);
    await reg.register('cnn', frozen);
    await gitCli(repo, 'tag', '-d', 'other@v1.0.0');
    const again = await openRegistry({ dir: repo });
    expect(await gitCli(repo, 'tag', '-l', 'other@*')).toBe('');
    expect((await again.register('other', base)).version).toBe(2);
    await fsckStrict(repo);
  });

  it('keeps working after `git gc` packs its objects and refs (no duplicate objects written)', async () => {
    await gitCli(repo, 'gc', '-q');
    const looseCount = async (): Promise<number> =>
      Number(/^count: (\d+)$/m.exec(await gitCli(repo, 'count-objects', '-v'))?.[1]);
    const loose0 = await looseCount(); // unreachable objects (deleted tags) stay loose
    expect(loose0).toBeLessThanOrEqual(2);
    expect(await readFile(join(repo, '.git', 'packed-refs'), 'utf8')).toMatch(
      /refs\/tags\/cnn@v1\.0\.0/,
    );
    const again = await openRegistry({ dir: repo });
    const before = (await again.versions('cnn')).length;
    const v = await again.register('cnn', base);
    expect(v.version).toBe(before + 1);
    // only the new record, trees, commit and tag are loose: the weights were already packed
    expect((await looseCount()) - loose0).toBeLessThanOrEqual(8);
    await again.checkout('cnn@v1', join(root, 'after-gc'));
    expect((await again.resolve('cnn#production')).version).toBe(2);
    await fsckStrict(repo);
  });
});

describe('registry in a bare repository, with injected fs, clock and author', () => {
  it('writes through the given fs and stamps commits and tags with the given clock', async () => {
    const repo = join(root, 'bare.git');
    await gitCli(root, 'init', '-q', '--bare', repo);
    const calls = new Set<string>();
    const promises = new Proxy(nodeFs.promises, {
      get(target, prop: string) {
        const v = (target as unknown as Record<string, unknown>)[prop];
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          calls.add(prop);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const fs = { promises } as unknown as RegistryFs;
    const clock = (): Date => new Date('2030-01-02T03:04:05Z');
    const reg = await openRegistry({
      dir: repo,
      fs,
      clock,
      author: { name: 'CI', email: 'ci@example.com' },
    });
    expect(reg.gitdir).toBe(repo);
    const v = await reg.register('mnist-cnn', base);
    await reg.assign('mnist-cnn@v1', 'production');
    expect([...calls]).toEqual(expect.arrayContaining(['writeFile', 'rename', 'readFile']));
    expect(await gitCli(repo, 'log', '--format=%an %aI', 'mlship')).toBe(
      'CI 2030-01-02T03:04:05+00:00\n',
    );
    // the clock stands still, yet the model's events stay ordered for GTO (which sorts by tag
    // time, one-second resolution): each tag is stamped at least a second after the previous one
    expect(
      await gitCli(repo, 'tag', '-l', '--format=%(refname:short) %(taggerdate:iso-strict)'),
    ).toBe(
      'mnist-cnn#production#1 2030-01-02T03:04:06+00:00\nmnist-cnn@v1.0.0 2030-01-02T03:04:05+00:00\n',
    );
    expect((await reg.show('mnist-cnn@v1')).created).toBe('2030-01-02T03:04:05.000Z');
    expect(v.version).toBe(1);
    await fsckStrict(repo);
  });

  it('creates a repository when asked and refuses a missing one when not', async () => {
    const created = await openRegistry({ dir: join(root, 'fresh'), bare: true });
    expect(created.gitdir).toBe(join(root, 'fresh'));
    expect((await gitCli(join(root, 'fresh'), 'rev-parse', '--is-bare-repository')).trim()).toBe(
      'true',
    );
    // a repository the registry creates is its own: HEAD is the registry branch, so clones check
    // it out and remotes have a born HEAD
    expect((await gitCli(join(root, 'fresh'), 'symbolic-ref', 'HEAD')).trim()).toBe(
      'refs/heads/mlship',
    );
    expect(
      await errorOf(openRegistry({ dir: join(root, 'nothing-here'), create: false })),
    ).toMatchObject({
      code: 'NOT_A_REPOSITORY',
      message: /nothing-here is not a git repository/,
    });
  });
});

describe('storage', () => {
  it('a frozen-conv child stores only its changed layers; a scratch child stores all', async () => {
    const repo = join(root, 'storage');
    const reg = await openRegistry({ dir: repo, bare: true });
    await reg.register('cnn', base);
    const objects = join(repo, 'objects');
    const b0 = await dirBytes(objects);
    await reg.register('cnn', frozen, { parent: 'cnn@v1' });
    const b1 = await dirBytes(objects);
    await reg.register('cnn', scratch, { parent: 'cnn@v1' });
    const b2 = await dirBytes(objects);
    const changed = (MODEL_A_LAYERS.dense! + MODEL_A_LAYERS.dense_1!) * 4;
    expect(b1 - b0).toBeLessThanOrEqual(changed + 16 * 1024);
    // the scratch child also stores new conv layers (conv2d_1 alone is 74 kB before zlib)
    expect(b2 - b1).toBeGreaterThan(b1 - b0 + 50_000);
    // git itself agrees the conv blobs are shared
    expect(
      (await gitCli(repo, 'rev-parse', 'cnn@v1.0.0:models/cnn/conv2d_1.weights.bin')).trim(),
    ).toBe((await gitCli(repo, 'rev-parse', 'cnn@v2.0.0:models/cnn/conv2d_1.weights.bin')).trim());
  });
});

describe('integrity', () => {
  let repo: string;
  let reg: Registry;
  let oid: string;
  beforeAll(async () => {
    repo = join(root, 'tamper');
    reg = await openRegistry({ dir: repo, bare: true });
    await reg.register('cnn', base);
    oid = (await reg.show('cnn@v1')).files.find((f) => f.path === 'dense_1.weights.bin')!.oid;
  });

  it.each([
    [
      'another valid blob of the same size',
      (orig: Buffer) =>
        deflateSync(
          Buffer.concat([Buffer.from(`blob ${orig.length}\0`), Buffer.alloc(orig.length, 7)]),
        ),
    ],
    ['garbage bytes', () => Buffer.from('not a zlib stream at all')],
  ])(
    'a tampered blob (%s) is an INTEGRITY_ERROR and nothing is left at destDir',
    async (_what, make) => {
      const objPath = join(repo, 'objects', oid.slice(0, 2), oid.slice(2));
      const saved = await readFile(objPath);
      const size = MODEL_A_LAYERS.dense_1! * 4;
      await chmod(objPath, 0o644);
      await writeFile(objPath, make(Buffer.alloc(size)));
      const fresh = await openRegistry({ dir: repo });
      const dest = join(root, 'tamper-out', 'x');
      expect(await errorOf(fresh.checkout('cnn@v1', dest))).toMatchObject({
        code: 'INTEGRITY_ERROR',
        message: /dense_1\.weights\.bin/,
      });
      expect(nodeFs.existsSync(dest)).toBe(false);
      expect(
        nodeFs.existsSync(join(root, 'tamper-out'))
          ? nodeFs.readdirSync(join(root, 'tamper-out'))
          : [],
      ).toEqual([]);
      await writeFile(objPath, saved);
      await (await openRegistry({ dir: repo })).checkout('cnn@v1', dest);
      expect(nodeFs.existsSync(join(dest, 'dense_1.weights.bin'))).toBe(true);
      await rm(join(root, 'tamper-out'), { recursive: true });
    },
  );
});

describe('typed errors', () => {
  let reg: Registry;
  beforeAll(async () => {
    reg = await openRegistry({ dir: join(root, 'errors'), bare: true });
    await reg.register('cnn', base);
  });

  it.each([
    '../evil',
    'a/b',
    'a\\b',
    'Cnn',
    'x..y',
    'model.lock',
    'has space',
    '',
    'x~1',
    'x^2',
    'a:b',
    '-lead',
    'trail-',
    '@',
    'a#b',
  ])('rejects the model name %j', async (name) => {
    expect(await errorOf(reg.register(name, base))).toMatchObject({
      code: 'INVALID_NAME',
      message: /Invalid model name/,
    });
  });

  it.each(['../x', 'prod/x', 'Prod', 'a b'])('rejects the stage name %j', async (stage) => {
    expect(await errorOf(reg.assign('cnn@v1', stage))).toMatchObject({
      code: 'INVALID_NAME',
      message: /Invalid stage name/,
    });
  });

  it.each([
    [
      'an alias to a missing version',
      () => reg.assign('cnn@v9', 'production'),
      'VERSION_NOT_FOUND',
      /Version 9 of cnn not found/,
    ],
    [
      'an alias of an unknown model',
      () => reg.assign('nope@v1', 'production'),
      'MODEL_NOT_FOUND',
      /Model "nope" has no registered versions/,
    ],
    [
      'removing an unassigned stage',
      () => reg.unassign('cnn', 'production'),
      'STAGE_NOT_ASSIGNED',
      /not assigned/,
    ],
    [
      'a malformed ref',
      () => reg.resolve('cnn@@1'),
      'INVALID_REF',
      /Invalid version reference "cnn@@1"/,
    ],
    [
      'a non-numeric metric',
      () => reg.register('cnn', base, { metrics: { accuracy: Number.NaN } }),
      'INVALID_OPTION',
      /Metric "accuracy" is null: metrics must be finite numbers/,
    ],
    [
      'a missing parent',
      () => reg.register('cnn', base, { parent: 'cnn@v7' }),
      'VERSION_NOT_FOUND',
      /Version 7/,
    ],
  ])('rejects %s', async (_what, run, code, message) => {
    expect(await errorOf(run())).toMatchObject({ code, message });
  });

  it.each([
    ['a missing directory', async (d: string) => d, 'NOT_A_MODEL_DIR', /does not exist/],
    [
      'a directory without mlship.json',
      async (d: string) => {
        await mkdir(d, { recursive: true });
        await writeFile(join(d, 'model.json'), '{}');
        return d;
      },
      'NOT_A_MODEL_DIR',
      /mlship\.json is missing/,
    ],
    [
      'a listed file that is missing',
      async (d: string) => {
        await writeModelDirForTesting(d);
        await unlink(join(d, 'dense.weights.bin'));
        return d;
      },
      'MODEL_FILE_MISSING',
      /dense\.weights\.bin is listed in mlship\.json but missing/,
    ],
    [
      'a file whose sha256 differs',
      async (d: string) => {
        await writeModelDirForTesting(d);
        await writeFile(join(d, 'conv2d.weights.bin'), Buffer.alloc(MODEL_A_LAYERS.conv2d! * 4));
        return d;
      },
      'MODEL_FILE_MISMATCH',
      /conv2d\.weights\.bin has sha256 [0-9a-f]{64}.*expects/,
    ],
    [
      'an unlisted file',
      async (d: string) => {
        await writeModelDirForTesting(d);
        await writeFile(join(d, 'notes.txt'), 'hi');
        return d;
      },
      'MODEL_FILE_MISMATCH',
      /notes\.txt is not listed/,
    ],
    [
      'a wrong format',
      async (d: string) => {
        await writeModelDirForTesting(d);
        const meta = JSON.parse(await readFile(join(d, 'mlship.json'), 'utf8')) as Record<
          string,
          unknown
        >;
        await writeFile(join(d, 'mlship.json'), JSON.stringify({ ...meta, format: 'other/1' }));
        return d;
      },
      'NOT_A_MODEL_DIR',
      /expected "mlship-model\/1"/,
    ],
  ])('rejects %s as a model directory', async (what, make, code, message) => {
    const d = await make(join(root, 'bad', what.replace(/\W+/g, '-')));
    expect(await errorOf(reg.register('cnn', d))).toMatchObject({ code, message });
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

describe('recovery', () => {
  it('open() recreates the version tag of a registration interrupted after its commit point, byte-identical', async () => {
    const repo = join(root, 'repair');
    const reg = await openRegistry({ dir: repo, bare: true });
    await reg.register('cnn', base);
    const v2 = await reg.register('cnn', frozen);
    const tagOid = (await gitCli(repo, 'rev-parse', 'cnn@v2.0.0')).trim();
    await unlink(join(repo, 'refs', 'tags', 'cnn@v2.0.0'));
    const reopened = await openRegistry({ dir: repo });
    expect((await gitCli(repo, 'rev-parse', 'cnn@v2.0.0')).trim()).toBe(tagOid);
    expect((await reopened.resolve('cnn@latest')).commit).toBe(v2.commit);
    await fsckStrict(repo);
  });

  it('breaks a stale lock left by a dead process, and times out on a live one', async () => {
    const repo = join(root, 'locks');
    const reg = await openRegistry({ dir: repo, bare: true, lock: { timeoutMs: 300 } });
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const { hostname } = await import('node:os');
    await writeFile(
      join(repo, 'mlship.lock'),
      JSON.stringify({
        pid: Number(dead.stdout),
        hostname: hostname(),
        time: new Date().toISOString(),
        token: 'x',
      }),
    );
    expect((await reg.register('cnn', base)).version).toBe(1);
    expect(nodeFs.existsSync(join(repo, 'mlship.lock'))).toBe(false);
    await writeFile(
      join(repo, 'mlship.lock'),
      JSON.stringify({
        pid: process.ppid,
        hostname: hostname(),
        time: new Date().toISOString(),
        token: 'y',
      }),
    );
    expect(await errorOf(reg.register('cnn', base))).toMatchObject({
      code: 'LOCK_TIMEOUT',
      message: new RegExp(`held by pid ${process.ppid}`),
    });
    await unlink(join(repo, 'mlship.lock'));
  });
});

describe('read-only repositories', () => {
  it('open, resolve, list, show, lineage, diff and checkout write nothing into the repository', async () => {
    const repo = join(root, 'readonly');
    const writer = await openRegistry({ dir: repo, bare: true });
    await writer.register('cnn', base);
    await writer.register('cnn', frozen, { parent: 'cnn@v1', stages: ['production'] });
    const deny = (path: unknown): void => {
      if (String(path).startsWith(repo)) {
        throw Object.assign(new Error(`EROFS: read-only file system, ${String(path)}`), {
          code: 'EROFS',
        });
      }
    };
    const p = nodeFs.promises;
    const fs = {
      promises: {
        ...p,
        readFile: p.readFile,
        writeFile: async (path: string, ...rest: unknown[]) => (
          deny(path),
          (p.writeFile as (...a: unknown[]) => Promise<void>)(path, ...rest)
        ),
        mkdir: async (path: string, ...rest: unknown[]) => (
          deny(path),
          (p.mkdir as (...a: unknown[]) => Promise<unknown>)(path, ...rest)
        ),
        rename: async (from: string, to: string) => (deny(to), p.rename(from, to)),
        unlink: async (path: string) => (deny(path), p.unlink(path)),
      },
    } as unknown as RegistryFs;
    const reader = await openRegistry({ dir: repo, fs, create: false });
    expect((await reader.resolve('cnn#production')).version).toBe(2);
    expect(await reader.models()).toEqual([
      { name: 'cnn', latest: 2, versions: 2, stages: { production: 2 } },
    ]);
    expect((await reader.lineage('cnn@v2')).length).toBe(2);
    expect((await reader.diff('cnn@v1', 'cnn@v2')).files.length).toBe(6);
    await reader.checkout('cnn#production', join(root, 'ro-out'));
    expect(await errorOf(reader.assign('cnn@v1', 'staging'))).toMatchObject({
      code: 'WRITE_FAILED',
      message: /Cannot create the registry lock .*mlship\.lock \(EROFS/,
    });
  });
});

describe('torn lock', () => {
  it('an empty lock file (a writer killed between create and write) is broken once it is 2 s old', async () => {
    const repo = join(root, 'torn');
    const reg = await openRegistry({ dir: repo, bare: true });
    await writeFile(join(repo, 'mlship.lock'), '');
    const old = new Date(Date.now() - 5_000);
    await nodeFs.promises.utimes(join(repo, 'mlship.lock'), old, old);
    expect((await reg.register('cnn', base)).version).toBe(1);
    expect(nodeFs.existsSync(join(repo, 'mlship.lock'))).toBe(false);
  });
});

describe('parents recorded in mlship.json', () => {
  it.each([
    ['a ref of this registry', 'cnn@v1', 'cnn@v1.0.0', 2],
    [
      'an object { name, version }',
      { name: 'cnn', version: 1, ref: 'cnn@v1.0.0' },
      'cnn@v1.0.0',
      2,
    ],
    ['a model outside this registry', 'hub/resnet-base', 'hub/resnet-base', 1],
  ])(
    'accepts %s and walks lineage as far as it can',
    async (_what, parentValue, recorded, steps) => {
      const repo = join(root, `parents-${steps}-${String(recorded).replace(/\W/g, '')}`);
      const reg = await openRegistry({ dir: repo, bare: true });
      await reg.register('cnn', base);
      const dir = join(root, 'parents', String(recorded).replace(/\W/g, '-'));
      await writeModelDirForTesting(dir, { seed: 9, parent: parentValue, strategy: 'fine-tune' });
      const v = await reg.register('cnn', dir);
      expect((await reg.show(v.tag)).record.parent).toBe(recorded);
      const lineage = await reg.lineage(v.tag);
      expect(lineage).toHaveLength(steps);
      expect(lineage[0]).toMatchObject({ strategy: 'fine-tune', parent: recorded });
    },
  );
});
