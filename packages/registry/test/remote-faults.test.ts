// Remotes under faults, against git's own `git http-backend` on 127.0.0.1: a server killed
// mid-transfer, credentials in URLs, and two registries that disagree on a stage.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRegistryError, openRegistry, type Registry } from '../src/index';
import { writeModelDirForTesting } from '../src/testing';
import { errorOf, fsckStrict, gitCli, gitCommit, startGitHttpServer, tempDir } from './helpers';

const AUTH = { username: 'alice', password: 's3cret-Pa55' };

let root: string;
let cleanup: () => Promise<void>;
let server: Awaited<ReturnType<typeof startGitHttpServer>>;
const faults: { killUploadPackAfter?: number; killUploadPackRequest?: number } = {};

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('mlship-remote-faults-'));
  const seed = join(root, 'seed');
  await gitCli(root, 'init', '-q', '-b', 'main', seed);
  await gitCommit(seed, '-q', '--allow-empty', '-m', 'project');
  server = await startGitHttpServer(join(root, 'srv'), AUTH, faults);
  for (const [name, seedValue] of [
    ['m1', 1],
    ['m2', 2],
    ['m3', 3],
  ] as const)
    await writeModelDirForTesting(join(root, name), { seed: seedValue });
});
afterAll(async () => {
  await server.close();
  await cleanup();
});

/** A fresh served remote `<name>.git` and a registry that pushed cnn v1, v2 and a stage to it. */
async function remoteWithTwoVersions(name: string): Promise<{ url: string; a: Registry }> {
  await gitCli(root, 'clone', '-q', '--bare', join(root, 'seed'), join(root, 'srv', `${name}.git`));
  const a = await openRegistry({ dir: join(root, name, 'a'), bare: true });
  await a.register('cnn', join(root, 'm1'));
  await a.register('cnn', join(root, 'm2'));
  await a.assign('cnn@v1', 'production');
  const url = `${server.url}/${name}.git`;
  await a.push({ url, auth: AUTH });
  return { url, a };
}

/** The repository is valid for plain git: fsck --strict, log --all and gc all succeed. */
async function gitStillWorks(repo: string): Promise<void> {
  expect(await fsckStrict(repo)).not.toMatch(/error|invalid|missing|broken/i);
  await gitCli(repo, 'log', '--all', '--oneline');
  await gitCli(repo, 'gc', '-q');
}

describe('a pull interrupted by the server dying mid-transfer', () => {
  it('fails with REMOTE_FAILED and leaves no ref to a missing object; the next pull completes', async () => {
    const { url } = await remoteWithTwoVersions('killed-branch');
    const repo = join(root, 'killed-branch', 'b');
    const b = await openRegistry({ dir: repo, bare: true });
    Object.assign(faults, { killUploadPackAfter: 100_000, killUploadPackRequest: 1 });
    const err = await errorOf(b.pull({ url, auth: AUTH }));
    expect(err).toMatchObject({
      code: 'REMOTE_FAILED',
      message: expect.stringMatching(/mid-transfer.*nothing was changed locally/),
    });
    expect(await gitCli(repo, 'for-each-ref')).toBe('');
    await gitStillWorks(repo);
    const res = await b.pull({ url, auth: AUTH });
    expect(res.branch).toBe('created');
    expect((await b.resolve('cnn#production')).version).toBe(1);
    await gitStillWorks(repo);
  });

  it('also when the branch arrived and a tag transfer is cut: the branch is not moved, no tag ref dangles', async () => {
    const { url } = await remoteWithTwoVersions('killed-tag');
    const repo = join(root, 'killed-tag', 'b');
    const b = await openRegistry({ dir: repo, bare: true });
    // request 1: the branch; request 2: the first tag (a tag object is a few hundred bytes)
    Object.assign(faults, { killUploadPackAfter: 60, killUploadPackRequest: 2 });
    expect(await errorOf(b.pull({ url, auth: AUTH }))).toMatchObject({ code: 'REMOTE_FAILED' });
    expect(await gitCli(repo, 'for-each-ref', 'refs/tags', 'refs/heads')).toBe('');
    await gitStillWorks(repo);
    expect((await b.pull({ url, auth: AUTH })).newTags).toEqual([
      'cnn#production#1',
      'cnn@v1.0.0',
      'cnn@v2.0.0',
    ]);
    await gitStillWorks(repo);
  });
});

describe('credentials in a remote URL', () => {
  it('are used but never written to .git/config, and never shown in errors, data or toJSON', async () => {
    const { url } = await remoteWithTwoVersions('creds');
    const repo = join(root, 'creds', 'b');
    const b = await openRegistry({ dir: repo, bare: true });
    const wrong = url.replace('http://', `http://${AUTH.username}:wr0ng-Secret@`);
    let caught: unknown;
    try {
      await b.pull({ url: wrong });
    } catch (e) {
      caught = e;
    }
    expect(isRegistryError(caught)).toBe(true);
    const e = caught as Error & { code: string; data: unknown };
    expect(e.code).toBe('REMOTE_AUTH_FAILED');
    const everything = `${e.message} ${JSON.stringify(e.data)} ${JSON.stringify(e)} ${String(e.stack)}`;
    expect(everything).not.toMatch(/wr0ng-Secret/);
    expect(e.message).toMatch(/http:\/\/\*\*\*@127\.0\.0\.1/);
    expect(await readFile(join(repo, 'config'), 'utf8')).not.toMatch(/wr0ng-Secret|alice/);

    const right = url.replace('http://', `http://${AUTH.username}:${AUTH.password}@`);
    expect((await b.pull({ url: right })).branch).toBe('created');
    const config = await readFile(join(repo, 'config'), 'utf8');
    expect(config).not.toMatch(new RegExp(AUTH.password));
    expect(config).toContain(`url = ${url}`);
    // push with credentials in the URL works too
    await b.register('cnn', join(root, 'm3'));
    expect((await b.push({ url: right })).pushed).toContain('refs/tags/cnn@v3.0.0');
  });
});

describe('two registries that disagree on a stage', () => {
  it('pull reports the conflicting tag, keeps the local one, and takes the remote one when asked', async () => {
    const { url, a } = await remoteWithTwoVersions('conflict');
    const b = await openRegistry({ dir: join(root, 'conflict', 'b'), bare: true });
    await b.pull({ url, auth: AUTH });
    // both assign production as event 2, to different versions; a pushes first
    await a.assign('cnn@v2', 'production');
    const mine = await b.assign('cnn@v1', 'production', { message: 'b keeps v1' });
    expect(mine.tag).toBe('cnn#production#2');
    await a.push({ url, auth: AUTH });
    expect(await errorOf(b.push({ url, auth: AUTH }))).toMatchObject({
      code: 'REMOTE_REJECTED',
    });

    const reported = await b.pull({ url, auth: AUTH });
    expect(reported.conflicts).toEqual([
      {
        tag: 'cnn#production#2',
        local: { object: expect.stringMatching(/^[0-9a-f]{40}$/), version: 1 },
        remote: { object: expect.stringMatching(/^[0-9a-f]{40}$/), version: 2 },
        resolution: 'kept-local',
      },
    ]);
    expect((await b.resolve('cnn#production')).version).toBe(1);

    const taken = await b.pull({ url, auth: AUTH, conflicts: 'theirs' });
    expect(taken.conflicts.map((c) => [c.tag, c.resolution])).toEqual([
      ['cnn#production#2', 'took-remote'],
    ]);
    expect((await b.resolve('cnn#production')).version).toBe(2);
    expect(
      (await gitCli(join(root, 'conflict', 'b'), 'rev-parse', 'cnn#production#2')).trim(),
    ).toBe(taken.conflicts[0]!.remote.object);
    expect((await b.pull({ url, auth: AUTH })).conflicts).toEqual([]);
    // agreed again: b's next assignment pushes cleanly
    await b.assign('cnn@v1', 'production');
    await b.push({ url, auth: AUTH });
    await fsckStrict(join(root, 'conflict', 'b'));
  });
});

describe('remotes other than smart HTTP', () => {
  it('a path, file://, ssh or scp-style remote, given or configured, is INVALID_OPTION saying only smart HTTP is supported, and nothing is written', async () => {
    const repo = join(root, 'not-http', 'a');
    const a = await openRegistry({ dir: repo, bare: true });
    await a.register('cnn', join(root, 'm1'));
    const config = await readFile(join(repo, 'config'), 'utf8');
    const notHttp = expect.stringMatching(
      /is not supported: the registry talks to git remotes over smart HTTP only \(http:\/\/ or https:\/\/ URLs; not a path, file:\/\/ or ssh\)/,
    );
    for (const url of [
      join(root, 'seed'),
      `file://${join(root, 'seed')}`,
      'ssh://git@127.0.0.1/models.git',
      'git@127.0.0.1:models.git',
      'ftp://alice:ftp-Secret@127.0.0.1/models.git',
    ]) {
      for (const op of [() => a.pull({ url }), () => a.push({ url })]) {
        const e = await errorOf(op());
        expect(e).toMatchObject({
          code: 'INVALID_OPTION',
          message: notHttp,
          data: { path: 'url' },
        });
        expect(JSON.stringify(e)).not.toMatch(/ftp-Secret/);
      }
    }
    expect(await readFile(join(repo, 'config'), 'utf8')).toBe(config);

    // a plain `git clone` of a local path has that path as its origin
    const clone = join(root, 'not-http', 'clone');
    await gitCli(root, 'clone', '-q', repo, clone);
    const b = await openRegistry({ dir: clone });
    expect((await b.resolve('cnn@v1')).version).toBe(1);
    for (const op of [() => b.pull(), () => b.push()])
      expect(await errorOf(op())).toMatchObject({ code: 'INVALID_OPTION', message: notHttp });
    expect(await gitCli(clone, 'for-each-ref', '--format=%(refname)')).toBe(
      'refs/heads/mlship\nrefs/remotes/origin/HEAD\nrefs/remotes/origin/mlship\nrefs/tags/cnn@v1.0.0\n',
    );
  });
});
