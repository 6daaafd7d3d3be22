// register, read back with the real git CLI: tags, commits, trees, the user's checkout untouched.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry, type Registry } from '../src/index';
import {
  MODEL_A_FILES,
  fsckStrict,
  gitCli,
  gitCommit,
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

/** A working tree with a user commit and a dirty edit, and a registry opened in it. */
async function userRepo(name: string): Promise<{ repo: string; reg: Registry }> {
  const repo = join(root, name);
  await mkdir(repo);
  await gitCli(repo, 'init', '-q', '-b', 'main');
  await writeFile(join(repo, 'README.md'), 'user file\n');
  await gitCli(repo, 'add', 'README.md');
  await gitCommit(repo, '-q', '-m', 'user commit');
  await writeFile(join(repo, 'README.md'), 'dirty edit\n');
  const reg = await openRegistry({
    dir: repo,
    author: { name: 'Reg Bot', email: 'bot@example.com' },
  });
  return { repo, reg };
}

describe('register in a working tree', () => {
  it('numbers versions 1, 2, 3 and writes GTO tags and one commit each that git reads back', async () => {
    const { repo, reg } = await userRepo('numbers');
    const [v1, v2, v3] = await registerThree(reg, dirs);
    expect([v1!.version, v2!.version, v3!.version]).toEqual([1, 2, 3]);
    expect(v2!.tag).toBe('cnn@v2.0.0');

    expect(await gitCli(repo, 'tag', '-l', 'cnn@*')).toBe('cnn@v1.0.0\ncnn@v2.0.0\ncnn@v3.0.0\n');
    expect(await gitCli(repo, 'tag', '-n1', '-l', 'cnn@v2.0.0')).toMatch(
      /^cnn@v2\.0\.0\s+Registering artifact cnn version v2\.0\.0/,
    );
    expect((await gitCli(repo, 'cat-file', '-t', 'cnn@v2.0.0')).trim()).toBe('tag');
    expect((await gitCli(repo, 'rev-parse', 'cnn@v2.0.0^{commit}')).trim()).toBe(v2!.commit);
    expect(await gitCli(repo, 'log', '--format=%s|%an <%ae>', 'mlship')).toBe(
      'Register cnn@v3.0.0|Reg Bot <bot@example.com>\nRegister cnn@v2.0.0|Reg Bot <bot@example.com>\nRegister cnn@v1.0.0|Reg Bot <bot@example.com>\n',
    );
    expect(await gitCli(repo, 'log', '-1', '--format=%B', 'cnn@v2.0.0')).toMatch(
      /Mlship-Parent: cnn@v1\.0\.0/,
    );
    // the stored mlship.json is byte-identical to the registered one
    expect(await gitCli(repo, 'show', 'cnn@v2.0.0:models/cnn/mlship.json')).toBe(
      await readFile(join(dirs.frozen, 'mlship.json'), 'utf8'),
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
    const { repo, reg } = await userRepo('untouched');
    await registerThree(reg, dirs);
    await reg.assign('cnn@v1', 'production');
    expect((await gitCli(repo, 'log', '--format=%s', 'main')).trim()).toBe('user commit');
    expect((await gitCli(repo, 'symbolic-ref', 'HEAD')).trim()).toBe('refs/heads/main');
    expect(await gitCli(repo, 'status', '--porcelain')).toBe(' M README.md\n');
  });

  it('never reuses a version number even when its tag is deleted (the counter lives in the commit tree too)', async () => {
    const { repo, reg } = await userRepo('reuse');
    expect((await reg.register('other', dirs.base)).version).toBe(1);
    await reg.register('cnn', dirs.frozen);
    await gitCli(repo, 'tag', '-d', 'other@v1.0.0');
    const again = await openRegistry({ dir: repo });
    expect(await gitCli(repo, 'tag', '-l', 'other@*')).toBe('');
    expect((await again.register('other', dirs.base)).version).toBe(2);
    await fsckStrict(repo);
  });
});
