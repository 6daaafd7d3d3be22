import { join } from 'node:path';
import nodeHttp from 'isomorphic-git/http/node';
import type { HttpClient } from 'isomorphic-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRegistryError, openRegistry, type Registry } from '../src/index';
import { writeModelDirForTesting } from '../src/testing';
import { fsckStrict, gitCli, gitCommit, startGitHttpServer, tempDir } from './helpers';

const AUTH = { username: 'alice', password: 's3cret' };

let root: string;
let cleanup: () => Promise<void>;
let server: Awaited<ReturnType<typeof startGitHttpServer>>;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isRegistryError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('mlship-remote-'));
  // The remotes are ordinary project repositories (a `main` branch with a commit) served by git.
  const seed = join(root, 'seed');
  await gitCli(root, 'init', '-q', '-b', 'main', seed);
  await gitCommit(seed, '-q', '--allow-empty', '-m', 'project');
  server = await startGitHttpServer(join(root, 'srv'), AUTH);
  await writeModelDirForTesting(join(root, 'm1'), { seed: 1, metrics: { accuracy: 0.9 } });
  await writeModelDirForTesting(join(root, 'm2'), {
    seed: 1,
    layerSeeds: { dense: 2, dense_1: 2 },
    metrics: { accuracy: 0.95 },
  });
  await writeModelDirForTesting(join(root, 'm3'), { seed: 3 });
});
afterAll(async () => {
  await server.close();
  await cleanup();
});

/**
 * A fresh served remote `<name>.git` (a clone of the project repository) and a registry `a` with
 * cnn v1, v2 (parent v1) and the stage history production -> v1, -> v2, removed, -> v2.
 */
async function setup(name: string): Promise<{ url: string; a: Registry; dir: string }> {
  await gitCli(root, 'clone', '-q', '--bare', join(root, 'seed'), join(root, 'srv', `${name}.git`));
  const dir = join(root, name);
  const a = await openRegistry({ dir: join(dir, 'a') });
  await a.register('cnn', join(root, 'm1'));
  await a.register('cnn', join(root, 'm2'), { parent: 'cnn@v1' });
  await a.assign('cnn@v1', 'production');
  await a.assign('cnn@v2', 'production');
  await a.unassign('cnn', 'production');
  await a.assign('cnn@v2', 'production');
  return { url: `${server.url}/${name}.git`, a, dir };
}

describe('remotes over smart HTTP (git http-backend on 127.0.0.1)', () => {
  it('refuses without credentials with a typed auth error', async () => {
    const { url, a } = await setup('noauth');
    expect(await codeOf(a.push({ url }))).toMatch(/^REMOTE_AUTH_FAILED: .*HTTP 401/);
  });

  it('pushes versions, tags and the full alias history; the git CLI clones and reads them', async () => {
    const { url, a, dir } = await setup('push');
    const res = await a.push({ url, auth: AUTH });
    expect(res.pushed).toContain('refs/heads/mlship');
    expect(res.pushed).toHaveLength(1 + 2 + 4);
    const authed = url.replace('http://', `http://${AUTH.username}:${AUTH.password}@`);
    const clone = join(dir, 'clone');
    await gitCli(dir, 'clone', '-q', '--branch', 'mlship', authed, clone);
    expect(await gitCli(clone, 'tag', '-l')).toBe(
      'cnn#production!#3\ncnn#production#1\ncnn#production#2\ncnn#production#4\ncnn@v1.0.0\ncnn@v2.0.0\n',
    );
    expect(await gitCli(clone, 'tag', '-n1', '-l', 'cnn@v2.0.0')).toMatch(
      /Registering artifact cnn version v2\.0\.0/,
    );
    expect(await gitCli(clone, 'log', '--format=%s')).toBe(
      'Register cnn@v2.0.0\nRegister cnn@v1.0.0\n',
    );
    expect(await gitCli(clone, 'ls-files', 'models/cnn')).toMatch(
      /models\/cnn\/dense\.weights\.bin/,
    );
    await fsckStrict(clone);
    await fsckStrict(join(root, 'srv', 'push.git'));
    // a plain `git clone` (default branch main) has the registry only as origin/mlship: reading
    // works through the tags, and registering continues that history instead of forking it
    const plain = join(dir, 'plain-clone');
    await gitCli(dir, 'clone', '-q', authed, plain);
    const c = await openRegistry({ dir: plain, create: false });
    expect((await c.resolve('cnn#production')).version).toBe(2);
    const v3 = await c.register('cnn', join(root, 'm3'));
    expect(v3.version).toBe(3);
    expect(await gitCli(plain, 'log', '--format=%s', 'mlship')).toBe(
      'Register cnn@v3.0.0\nRegister cnn@v2.0.0\nRegister cnn@v1.0.0\n',
    );
    await fsckStrict(plain);
    // nothing new: a second push sends nothing
    expect((await a.push({ url, auth: AUTH })).pushed).toEqual([]);
  });

  it('pulls into an empty registry: same versions, stages and history; checkout verifies', async () => {
    const { url, a, dir } = await setup('pull');
    await a.push({ url, auth: AUTH });
    const b = await openRegistry({ dir: join(dir, 'b'), bare: true });
    const res = await b.pull({ url, auth: AUTH });
    expect(res.branch).toBe('created');
    expect(res.newTags).toHaveLength(6);
    expect((await b.versions('cnn')).map((v) => [v.version, v.metrics.accuracy])).toEqual([
      [1, 0.9],
      [2, 0.95],
    ]);
    expect((await b.resolve('cnn#production')).version).toBe(2);
    expect((await b.stageHistory('cnn')).map((e) => `${e.action}:${e.version}`)).toEqual([
      'assign:1',
      'assign:2',
      'unassign:2',
      'assign:2',
    ]);
    await b.checkout('cnn@v2', join(dir, 'b-out'));
    expect((await b.lineage('cnn@v2')).map((s) => s.tag)).toEqual(['cnn@v2.0.0', 'cnn@v1.0.0']);

    // b registers v3 and pushes; a pulls it as a fast-forward
    expect((await b.register('cnn', join(root, 'm3'), { parent: 'cnn@v2' })).version).toBe(3);
    await b.assign('cnn@v3', 'staging');
    await b.push({ url, auth: AUTH });
    const pulled = await a.pull({ url, auth: AUTH });
    expect(pulled.branch).toBe('fast-forward');
    expect(pulled.newTags).toEqual(['cnn#staging#5', 'cnn@v3.0.0']);
    expect((await a.resolve('cnn#staging')).version).toBe(3);
    expect((await a.pull({ url, auth: AUTH })).branch).toBe('up-to-date');
    await fsckStrict(join(dir, 'a'));

    // a configured remote (git remote add origin ...) is used when no url is given
    const d = join(dir, 'd');
    await gitCli(dir, 'init', '-q', '-b', 'main', d);
    await gitCli(d, 'remote', 'add', 'origin', url);
    const dreg = await openRegistry({ dir: d, create: false });
    expect(await codeOf(dreg.pull({}))).toMatch(/^REMOTE_AUTH_FAILED: /);
    expect((await dreg.pull({ auth: AUTH })).branch).toBe('created');
    expect((await dreg.resolve('cnn@latest')).version).toBe(3);

    // What crosses the wire: the branch's fetch carries every version's objects once; each tag's
    // fetch after it carries the tag object alone (the server is told we have the branch), not the
    // whole history again per tag, which made pulls grow with versions x tags.
    const packs: number[] = [];
    const counting: HttpClient = {
      async request(req) {
        const res = await nodeHttp.request(req);
        if (!req.url.endsWith('/git-upload-pack') || res.body === undefined) return res;
        const body = res.body;
        const i = packs.push(0) - 1;
        return {
          ...res,
          body: (async function* () {
            for await (const chunk of body) {
              packs[i] = (packs[i] ?? 0) + chunk.length;
              yield chunk;
            }
          })(),
        };
      },
    };
    const e = await openRegistry({ dir: join(dir, 'e'), bare: true });
    expect((await e.pull({ url, auth: AUTH, http: counting })).newTags).toHaveLength(8);
    const [branchPack = 0, ...tagPacks] = packs;
    expect(tagPacks).toHaveLength(8);
    expect(branchPack).toBeGreaterThan(20_000);
    for (const bytes of tagPacks) expect(bytes).toBeLessThan(2_000);

    // both register v4 independently: pulling is refused instead of colliding
    await a.register('cnn', join(root, 'm1'));
    await b.register('cnn', join(root, 'm2'));
    await b.push({ url, auth: AUTH });
    expect(await codeOf(a.pull({ url, auth: AUTH }))).toMatch(/^DIVERGED: /);
    expect(await codeOf(a.push({ url, auth: AUTH }))).toMatch(/^REMOTE_REJECTED: /);
  }, 180_000); // five pushes and pulls over real HTTP, fsck: 4 s idle, 31 s with the whole suite running beside it
});
