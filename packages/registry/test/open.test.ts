// openRegistry on bare repositories, with injected fs, clock and author, read back with git.
import { spawnSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry, type RegistryFs } from '../src/index';
import { isValidBranchName } from '../src/names';
import { errorOf, fsckStrict, gitCli, tempDir, writeModelDirs, type ModelDirs } from './helpers';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

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
    const v = await reg.register('mnist-cnn', dirs.base);
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
      message: expect.stringMatching(/nothing-here is not a git repository/),
    });
  });
});

describe('the branch option', () => {
  const NAMES = [
    ...['mlship', 'models/registry', 'release-1.0', 'a/-b', 'a@b', 'é', 'x/HEAD'],
    ...['a/', 'a..b', 'x.lock', 'a/x.lock/b', 'a.lock/b', '.hidden', 'a/.b', 'a//b', '/a', 'a.'],
    ...['a@{1}', '@{-1}', '-a', 'HEAD', 'a b', 'a\tb', 'a\x7f', 'a~1', 'a^', 'a:b', 'a?', 'a*'],
    ...['a[', 'a\\b', ''],
  ];

  it('takes exactly the names `git check-ref-format --branch` takes; git reads the branch written', async () => {
    for (const [i, name] of NAMES.entries()) {
      const gitTakes =
        spawnSync('git', ['check-ref-format', '--branch', name], { cwd: root }).status === 0;
      expect([name, isValidBranchName(name)]).toEqual([name, gitTakes]);
      const dir = join(root, 'branches', String(i));
      if (gitTakes) {
        const reg = await openRegistry({ dir, bare: true, branch: name });
        const v = await reg.register('cnn', dirs.base);
        expect((await gitCli(dir, 'rev-parse', `refs/heads/${name}`)).trim()).toBe(v.commit);
      } else {
        expect(await errorOf(openRegistry({ dir, bare: true, branch: name }))).toMatchObject({
          code: 'INVALID_OPTION',
          message: expect.stringMatching(
            /^Invalid registry branch .*git check-ref-format --branch/,
          ),
          data: { path: 'branch' },
        });
        expect(nodeFs.existsSync(dir)).toBe(false);
      }
    }
  });

  it('refuses "@", which git reads as HEAD in a repository', async () => {
    expect(isValidBranchName('@')).toBe(false);
    expect(
      await errorOf(openRegistry({ dir: join(root, 'at'), bare: true, branch: '@' })),
    ).toMatchObject({ code: 'INVALID_OPTION' });
  });
});
